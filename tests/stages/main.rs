//! The CPU twin, stage by stage (being reorganised: see the next commit).

#[path = "../common/mod.rs"]
mod common;
#[path = "../naive/mod.rs"]
mod naive;

mod distance;
mod inputs;
mod maxima;
mod measure;
mod schedules;
mod skimage_agreement;
mod synth_rods;
mod threshold;
