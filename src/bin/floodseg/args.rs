//! The command line's shared arguments: the pipeline's flags live in the library
//! ([`floodseg::flags`], shared with the Python package); what only the CLI parses is here.
//! Each subcommand's own arguments live in its file.

pub(crate) use floodseg::flags::{
    backend_of, backend_of_arg, base_params, params_of, preset_of, BackendArg, PipelineArgs,
    PresetArg, StructureArg,
};
use floodseg::{Error, Result};

/// Parse `WxH`.
pub(crate) fn parse_size(flag: &'static str, s: &str) -> Result<(usize, usize)> {
    let parsed = s
        .split_once(['x', 'X', '×'])
        .and_then(|(w, h)| Some((w.trim().parse().ok()?, h.trim().parse().ok()?)));
    match parsed {
        Some((w, h)) if w > 0 && h > 0 => Ok((w, h)),
        _ => Err(Error::param(
            flag,
            format!("{s:?} is not a size WxH such as 1024x1024"),
        )),
    }
}
