//! The trust chain: which verdict headers the organisation's own servers
//! wrote, and so which ones are believed.
//!
//! Anyone can write Authentication-Results, Received-SPF and ARC fields,
//! and a receiving server prepends its fields above what it received. The
//! boundary is the topmost Received hop by which a trusted host (see
//! [`Context::is_trusted_receiver`]) received the message from outside:
//! whatever lies below that field came with the message. So:
//! - a verdict field counts only above the lowest Received field written by
//!   a trusted host on the way down to the boundary (the boundary itself, or
//!   for mail that never came from outside, the lowest internal hop);
//! - an Authentication-Results field there counts when its authserv-id is
//!   trusted, or when it has none (Microsoft 365) and the Received field
//!   right below it was written by a trusted host; a Received-SPF field
//!   likewise by the Received field below it;
//! - each method is taken from the topmost such field;
//! - ARC sets below the boundary are the forwarders' (the org's own seals
//!   above it vouch for nothing new).
//!
//! A message without any Received field (saved by the MTA right after
//! receipt) keeps the reading of a route-less message: fields with a
//! trusted authserv-id, the topmost winning, and the topmost Received-SPF.
//! Received fields that do not parse stop the walk: what lies below them
//! cannot be attributed.

use crate::auth_results::{
    arc_authentication_results, arc_seal_tags, parse_auth_header, AuthHeader, AuthResults,
};
use crate::context::Context;
use crate::header_block::HeaderBlock;

/// Verdict fields looked at, of each kind, from the top: the org's own
/// servers add a handful; a hostile message may hold thousands.
const MAX_VERDICT_FIELDS: usize = 64;

/// What the route walk learnt about where the trusted zone ends.
#[derive(Debug, Default)]
pub(crate) struct Route {
    /// Each Received field walked: its index in the header block and the
    /// host that wrote it (`by`), when it parsed and named one.
    pub received: Vec<(usize, Option<String>)>,
    /// Index in the block of the lowest Received field written by a
    /// trusted host before the walk left the trusted zone.
    pub zone_end: Option<usize>,
    /// Whether the message has Received fields at all.
    pub any_received: bool,
}

/// The verdicts the org's own servers recorded, read from `block` as the
/// route walk bounded them.
pub(crate) fn believed_verdicts(
    block: &HeaderBlock<'_>,
    route: &Route,
    ctx: &Context,
) -> AuthResults {
    let mut auth_fields = Vec::new();
    let mut spf_fields = Vec::new();
    let mut seals = Vec::new();
    let mut arc_results = Vec::new();
    for (index, field) in block.fields.iter().enumerate() {
        let list = if field.is("authentication-results") {
            &mut auth_fields
        } else if field.is("received-spf") {
            &mut spf_fields
        } else if field.is("arc-seal") {
            &mut seals
        } else if field.is("arc-authentication-results") {
            &mut arc_results
        } else {
            continue;
        };
        if list.len() < MAX_VERDICT_FIELDS {
            list.push(index);
        }
    }
    let value = |index: usize| {
        block
            .fields
            .get(index)
            .map(|f| f.unfolded())
            .unwrap_or_default()
    };
    // Fields above this index may be the org's; None: none are.
    let zone_end = if route.any_received {
        route.zone_end
    } else {
        Some(block.fields.len())
    };
    let Some(zone_end) = zone_end else {
        return AuthResults::default();
    };
    // The host that wrote the Received field right below `index`.
    let written_by_trusted = |index: usize| {
        route
            .received
            .iter()
            .find(|(r, _)| *r > index)
            .and_then(|(_, by)| by.as_deref())
            .is_some_and(|by| ctx.is_trusted_receiver(by))
    };
    let trusted_id =
        |id: &str| ctx.trusted_authserv_ids().contains(id) || ctx.is_trusted_receiver(id);
    let believed: Vec<AuthHeader> = auth_fields
        .iter()
        .filter(|i| **i < zone_end)
        .map(|i| (*i, parse_auth_header(&value(*i))))
        .filter(|(i, h)| match h.authserv_id.as_deref() {
            Some(id) if !route.any_received => ctx.trusted_authserv_ids().contains(id),
            Some(id) => trusted_id(id),
            None => route.any_received && written_by_trusted(*i),
        })
        .map(|(_, h)| h)
        .collect();
    let mut auth = AuthResults::from_headers(believed);
    let spf = spf_fields
        .iter()
        .find(|i| **i < zone_end && (!route.any_received || written_by_trusted(**i)));
    if let Some(i) = spf {
        auth.merge_received_spf(&value(*i));
    }

    // ARC sets that came with the message: below the zone (all of them
    // when there is no route), most recent (highest instance) first.
    let below = |i: &&usize| !route.any_received || **i > zone_end;
    let mut sets: Vec<(u32, String)> = seals
        .iter()
        .filter(below)
        .filter_map(|i| arc_seal_tags(&value(*i)))
        .collect();
    sets.sort_by_key(|set| std::cmp::Reverse(set.0));
    if let Some((latest, _)) = sets.first() {
        let recorded = arc_results
            .iter()
            .filter(below)
            .filter_map(|i| arc_authentication_results(&value(*i)))
            .find(|(i, _)| i == latest)
            .and_then(|(_, h)| h.dmarc);
        if let Some(d) = recorded {
            auth.arc_sealer_dmarc = Some(d.result);
            auth.arc_sealer_dmarc_header_from = d.header_from;
        }
    }
    for (_, domain) in sets {
        if !auth.arc_sealers.contains(&domain) {
            auth.arc_sealers.push(domain);
        }
    }
    auth
}
