//! Campaigns: the wizard's and API's use cases ([`service`]), the audience walk shared by the
//! pre-flight check and the launch ([`audience`]), the engine that sends ([`engine`]) through one
//! gate per sender number ([`gate`]), and the reports ([`report`]).

pub mod audience;
pub mod engine;
pub mod gate;
pub mod report;
pub mod service;

pub use engine::{Engine, EngineConfig};
pub use service::CampaignService;
