//! Delivery statuses of a sent message, and how out-of-order reports combine (fact sheet §3.5:
//! order is not guaranteed, `read` may come without `delivered`, duplicates are normal).

use serde::{Deserialize, Serialize};

/// What WhatsApp last reported for one message.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryStatus {
    /// Accepted by WhatsApp's servers (one tick).
    Sent,
    /// On the user's device (two ticks).
    Delivered,
    /// Opened (blue ticks).
    Read,
    /// A voice message was played.
    Played,
    /// Could not be delivered; the report carries the error.
    Failed,
}

impl DeliveryStatus {
    /// Parses Meta's lowercase status name.
    pub fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "sent" => Self::Sent,
            "delivered" => Self::Delivered,
            "read" => Self::Read,
            "played" => Self::Played,
            "failed" => Self::Failed,
            _ => return None,
        })
    }

    /// Meta's lowercase status name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sent => "sent",
            Self::Delivered => "delivered",
            Self::Read => "read",
            Self::Played => "played",
            Self::Failed => "failed",
        }
    }

    /// Progress along sent → delivered → read → played.
    fn progress(self) -> u8 {
        match self {
            Self::Sent => 1,
            Self::Delivered => 2,
            Self::Read => 3,
            Self::Played => 4,
            Self::Failed => 0,
        }
    }

    /// The status after also learning `incoming`: never moves backwards, so a late `delivered`
    /// cannot undo `read`. A `failed` only counts while nothing showed the message arrived, since
    /// a device that reported reading it has it.
    pub fn merge(current: Option<Self>, incoming: Self) -> Self {
        match current {
            None => incoming,
            Some(Self::Failed) => incoming,
            Some(current) if incoming == Self::Failed => {
                if current.progress() >= Self::Delivered.progress() {
                    current
                } else {
                    Self::Failed
                }
            }
            Some(current) if incoming.progress() > current.progress() => incoming,
            Some(current) => current,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DeliveryStatus::{self, *};

    fn fold(reports: &[DeliveryStatus]) -> DeliveryStatus {
        reports
            .iter()
            .fold(None, |state, &r| Some(DeliveryStatus::merge(state, r)))
            .unwrap()
    }

    #[test]
    fn a_late_delivered_does_not_lower_read() {
        assert_eq!(fold(&[Sent, Read, Delivered]), Read);
        assert_eq!(fold(&[Read, Sent]), Read);
    }

    #[test]
    fn read_may_arrive_without_delivered() {
        assert_eq!(fold(&[Sent, Read]), Read);
    }

    #[test]
    fn duplicates_change_nothing() {
        assert_eq!(fold(&[Delivered, Delivered, Delivered]), Delivered);
    }

    #[test]
    fn failure_before_delivery_sticks_but_not_after() {
        assert_eq!(fold(&[Sent, Failed]), Failed);
        assert_eq!(fold(&[Delivered, Failed]), Delivered);
    }

    #[test]
    fn the_order_of_a_set_of_progress_reports_does_not_matter() {
        let reports = [Sent, Delivered, Read, Played];
        let mut orders = vec![reports.to_vec()];
        for i in 0..reports.len() {
            for j in 0..reports.len() {
                let mut order = reports.to_vec();
                order.swap(i, j);
                orders.push(order);
            }
        }
        for order in orders {
            assert_eq!(fold(&order), Played, "{order:?}");
        }
    }

    #[test]
    fn names_parse_as_meta_writes_them() {
        assert_eq!(DeliveryStatus::parse("read"), Some(Read));
        assert_eq!(DeliveryStatus::parse("READ"), None);
    }
}
