//! The example organisation's world: people, correspondents, bulk senders,
//! attackers' infrastructure, and the values templates are filled with.

use crate::error::CorpusError;
use rand::seq::SliceRandom;
use rand_chacha::ChaCha8Rng;
use serde::Deserialize;

const BUILTIN_WORLD: &str = include_str!("../../../../datasets/gen/world.toml");

/// A mailbox with a name.
#[derive(Clone, Debug, Deserialize)]
pub struct Person {
    pub name: String,
    pub address: String,
    #[serde(default)]
    pub title: String,
    #[serde(default)]
    pub company: String,
}

impl Person {
    pub fn domain(&self) -> &str {
        self.address.rsplit_once('@').map_or("", |(_, d)| d)
    }
    /// The given name of a Western name, the whole name of a Japanese one
    /// (written with さん or 様 after it).
    pub fn first(&self) -> &str {
        if self.name.is_ascii() {
            self.name.split_whitespace().next().unwrap_or(&self.name)
        } else {
            &self.name
        }
    }
}

/// A newsletter, list, or service that mails the org in bulk.
#[derive(Clone, Debug, Deserialize)]
pub struct Bulk {
    pub kind: String,
    pub name: String,
    pub address: String,
    pub return_path: String,
    #[serde(default)]
    pub list_id: String,
}

#[derive(Clone, Debug, Deserialize)]
pub struct World {
    pub org: String,
    pub mx: String,
    pub employee: Vec<Person>,
    pub employee_ja: Vec<Person>,
    pub external: Vec<Person>,
    pub bulk: Vec<Bulk>,
    pub attacker_domains: Vec<String>,
    pub freemail: Vec<String>,
    pub phish_hosts: Vec<String>,
    pub vendors: Vec<String>,
    pub vendors_ja: Vec<String>,
    pub banks: Vec<String>,
    pub banks_ja: Vec<String>,
    pub cities: Vec<String>,
    pub cities_ja: Vec<String>,
    pub products: Vec<String>,
    pub products_ja: Vec<String>,
}

impl World {
    pub fn builtin() -> Result<World, CorpusError> {
        World::from_toml(BUILTIN_WORLD)
    }

    pub fn from_toml(text: &str) -> Result<World, CorpusError> {
        let world: World = toml::from_str(text).map_err(|source| CorpusError::GeneratorData {
            what: "world".into(),
            source,
        })?;
        let empty = [
            ("employee", world.employee.is_empty()),
            ("employee_ja", world.employee_ja.is_empty()),
            ("external", world.external.is_empty()),
            ("attacker_domains", world.attacker_domains.is_empty()),
            ("freemail", world.freemail.is_empty()),
            ("phish_hosts", world.phish_hosts.is_empty()),
        ];
        if let Some((name, _)) = empty.iter().find(|(_, e)| *e) {
            return Err(CorpusError::Invalid(format!(
                "generator world: {name} is empty"
            )));
        }
        Ok(world)
    }

    pub fn bulk_of(&self, kind: &str) -> Vec<&Bulk> {
        self.bulk.iter().filter(|b| b.kind == kind).collect()
    }
}

/// Someone of `staff` other than `not` (the next one along when the draw
/// falls on `not`).
pub fn colleague<'w>(rng: &mut ChaCha8Rng, staff: &'w [Person], not: &Person) -> &'w Person {
    let i = staff.choose(rng).map_or(0, |p| {
        staff
            .iter()
            .position(|q| q.address == p.address)
            .unwrap_or(0)
    });
    if staff[i].address == not.address {
        &staff[(i + 1) % staff.len()]
    } else {
        &staff[i]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_builtin_world_loads() {
        let w = World::builtin().unwrap();
        assert!(w.employee.len() >= 8);
        assert!(w.bulk_of("newsletter").len() >= 2);
        assert_eq!(w.employee[0].first(), "Daniel");
        assert_eq!(w.employee_ja[0].first(), "山田 太郎");
        assert_eq!(w.external[0].domain(), "coldchain-partners.eu");
    }
}
