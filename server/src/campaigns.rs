//! Campaigns: the wizard's and API's use cases ([`service`]), the audience walk shared by the
//! pre-flight check and the launch ([`audience`]), the engine that decides who is sent what and
//! hands each message to the one outbound path ([`crate::messaging`]) ([`engine`]), and the
//! reports ([`report`]).

pub mod audience;
pub mod engine;
pub mod follow_up_report;
pub mod report;
pub mod service;

pub use engine::{Engine, EngineConfig};
pub use service::CampaignService;
