//! The dependency graph: actions are nodes, "must happen before" edges.
//! Ordering is Kahn's algorithm taking the lowest insertion index among the
//! ready nodes, so the order is deterministic and as close to the planner's
//! natural grouping as the edges allow. A cycle is a bug, reported with its
//! members, never silently broken.

use std::cmp::Reverse;
use std::collections::BinaryHeap;

use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

/// Returns the nodes (by insertion index) in dependency order, or the
/// members of a cycle.
pub fn order(n: usize, edges: &[(usize, usize)]) -> Result<Vec<usize>, Vec<usize>> {
    let mut g: DiGraph<usize, ()> = DiGraph::with_capacity(n, edges.len());
    let nodes: Vec<NodeIndex> = (0..n).map(|i| g.add_node(i)).collect();
    for &(before, after) in edges {
        g.update_edge(nodes[before], nodes[after], ());
    }
    let mut indegree: Vec<usize> = nodes
        .iter()
        .map(|&v| {
            g.neighbors_directed(v, petgraph::Direction::Incoming)
                .count()
        })
        .collect();
    let mut ready: BinaryHeap<Reverse<usize>> =
        (0..n).filter(|&i| indegree[i] == 0).map(Reverse).collect();
    let mut out = Vec::with_capacity(n);
    while let Some(Reverse(i)) = ready.pop() {
        out.push(i);
        for next in g.neighbors_directed(nodes[i], petgraph::Direction::Outgoing) {
            let j = g[next];
            indegree[j] -= 1;
            if indegree[j] == 0 {
                ready.push(Reverse(j));
            }
        }
    }
    if out.len() == n {
        return Ok(out);
    }
    let cycle = tarjan_scc(&g)
        .into_iter()
        .find(|scc| scc.len() > 1 || scc.iter().any(|&v| g.contains_edge(v, v)))
        .map(|scc| {
            let mut c: Vec<usize> = scc.into_iter().map(|v| g[v]).collect();
            c.sort_unstable();
            c
        })
        .unwrap_or_default();
    Err(cycle)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_edges_then_insertion() {
        assert_eq!(order(4, &[(3, 0), (2, 1)]).unwrap(), vec![2, 1, 3, 0]);
        assert_eq!(order(3, &[]).unwrap(), vec![0, 1, 2]);
    }

    #[test]
    fn names_the_cycle() {
        assert_eq!(order(4, &[(0, 1), (1, 2), (2, 1)]).unwrap_err(), vec![1, 2]);
    }
}
