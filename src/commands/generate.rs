//! `moot generate completions <shell>` and `moot generate man`: generated
//! from the clap definitions, so they never disagree with `--help`.

use clap::CommandFactory;

use crate::Outcome;
use crate::cli::{Cli, GenerateTarget};
use crate::error::{Error, Result};
use crate::printer::Printer;

pub fn run(target: &GenerateTarget, printer: &Printer) -> Result<Outcome> {
    printer.data(&render(target)?);
    Ok(Outcome::Success)
}

pub fn render(target: &GenerateTarget) -> Result<String> {
    let mut cmd = Cli::command();
    let mut buf = Vec::new();
    match target {
        GenerateTarget::Completions { shell } => {
            clap_complete::generate(*shell, &mut cmd, "moot", &mut buf);
        }
        GenerateTarget::Man => clap_mangen::Man::new(cmd)
            .render(&mut buf)
            .map_err(|e| Error::Internal(format!("rendering the man page: {e}")))?,
    }
    String::from_utf8(buf).map_err(|e| Error::Internal(format!("generated text is not UTF-8: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn completions_and_man_render() {
        for shell in [
            clap_complete::Shell::Bash,
            clap_complete::Shell::Zsh,
            clap_complete::Shell::Fish,
        ] {
            let text = render(&GenerateTarget::Completions { shell }).unwrap();
            assert!(
                text.contains("moot") && text.contains("templates"),
                "{shell}"
            );
        }
        let man = render(&GenerateTarget::Man).unwrap();
        assert!(man.starts_with(".ie") || man.contains(".TH moot"), "{man}");
    }
}
