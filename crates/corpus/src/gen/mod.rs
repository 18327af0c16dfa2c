//! Synthetic mail: ham of an example organisation and the five attack
//! techniques injected into ham (generated or real), from templates in
//! datasets/gen and one seeded generator, so a seed gives the same bytes.
//!
//! Every message written is labelled: label (ham, bec, phish), technique,
//! synthetic, and the variant: the form of the technique (for a header-From
//! spoof, a [`ambiguity::SpoofForm`]: the header ambiguities of Composition
//! Kills, DKIM replays, …) or the unusual but legal headers of a ham
//! message ([`unusual::HamVariant`]), so evaluation can report each. Injected
//! attacks keep their carrier's fields, order and layout, and generated ham
//! and attacks share one range of dates, hosts and addresses, so nothing but
//! the forgery tells them apart.

pub mod ambiguity;
pub mod attack;
pub mod carrier;
pub mod compose;
pub mod ham;
pub mod hard_ham;
pub mod payload;
pub mod template;
pub mod timeline;
pub mod unusual;
pub mod values;
pub mod verdicts;
pub mod world;

use crate::error::CorpusError;
use crate::label::label_from_member;
use crate::progress::Progress;
use crate::Label;
use attack::inject_payload;
use carrier::{carrier_draft, Carrier};
use ham::ham;
use impostor_features::Technique;
use impostor_mailsource::{read_inputs, ReadOptions};
use impostor_model::atomic::StagedDir;
use payload::Payload;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use template::{Lang, Templates};
use template::{HAM_KINDS, PAYLOAD_LURE_CATEGORIES};
use world::World;

/// Most carriers held in memory; more are not needed for variety.
const MAX_CARRIERS: usize = 50_000;

/// What to generate and where; [`Default`] holds the defaults.
#[derive(Clone, Debug, PartialEq)]
pub struct GenConfig {
    /// The corpus directory to create (it must not exist).
    pub output: PathBuf,
    /// Seed of every random choice: the same seed writes the same bytes.
    pub seed: u64,
    /// Generated ham messages (without carriers).
    pub ham: usize,
    /// Attack messages, the five techniques in turn.
    pub attacks: usize,
    /// Real corpora whose ham (under a ham/ or easy_ham/ folder) carries
    /// the attacks; none: the embedded default corpus.
    pub carriers: Vec<PathBuf>,
    /// Messages of a simulated mailbox timeline ([`timeline::timeline`]),
    /// written under messages/timeline/; 0: none.
    pub timeline: usize,
}

impl Default for GenConfig {
    fn default() -> Self {
        GenConfig {
            output: PathBuf::new(),
            seed: 1,
            ham: 4000,
            attacks: 1500,
            carriers: Vec::new(),
            timeline: 3000,
        }
    }
}

/// Messages written, by label and technique code (`none` for ham).
pub type GenCounts = BTreeMap<(String, String), usize>;

impl GenConfig {
    /// Generates the corpus and writes it whole (see [`write_corpus`]);
    /// returns how many messages of each label and technique it holds.
    pub fn run(&self, progress: &dyn Progress) -> Result<GenCounts, CorpusError> {
        let generator = Generator::new(self.seed)?;
        let mut messages: Vec<Generated> = if self.carriers.is_empty() {
            generator.default_corpus(self.ham, self.attacks)
        } else {
            let (carriers, unreadable) = ham_carriers(&self.carriers);
            if carriers.is_empty() {
                return Err(CorpusError::Invalid(format!(
                    "no ham carriers in {:?}: keep ham under a ham/ or easy_ham/ folder ({unreadable} unreadable)",
                    self.carriers
                )));
            }
            progress.say(&format!(
                "{} ham carriers read ({unreadable} unreadable)",
                carriers.len()
            ));
            generator.inject_into(&carriers, self.attacks)
        };
        messages.extend(generator.timeline(self.timeline));
        write_corpus(&self.output, &messages)?;
        let mut counts = GenCounts::new();
        for m in &messages {
            let technique = m.technique.map_or("none", |t| t.code()).to_string();
            *counts.entry((m.label.to_string(), technique)).or_default() += 1;
        }
        Ok(counts)
    }
}

/// The ham of `paths` (by folder name), up to [`MAX_CARRIERS`], and how
/// many ham messages could not be read.
fn ham_carriers(paths: &[PathBuf]) -> (Vec<Vec<u8>>, usize) {
    let mut carriers = Vec::new();
    let mut unreadable = 0;
    for m in read_inputs(paths, &ReadOptions::default()) {
        let member = m.origin.member.clone().unwrap_or_default();
        if label_from_member(&member) != Some(Label::Ham) {
            continue;
        }
        match m.bytes {
            Ok(b) => carriers.push(b),
            Err(_) => unreadable += 1,
        }
        if carriers.len() >= MAX_CARRIERS {
            break;
        }
    }
    (carriers, unreadable)
}

/// One message written by the generator.
#[derive(Clone, Debug)]
pub struct Generated {
    /// Its file name below the output's messages/ folder.
    pub member: String,
    /// Ham; for an attack, phishing when its lure is after credentials,
    /// BEC otherwise.
    pub label: Label,
    /// The technique injected; `None` for ham.
    pub technique: Option<Technique>,
    /// Ham kind or lure category.
    pub kind: String,
    /// The form of the technique ([`attack::Attack::variant`]) or the ham's
    /// unusual headers ([`unusual::HamVariant::code`]; `plain` for none).
    pub variant: String,
    /// The message as written (LF line ends).
    pub bytes: Vec<u8>,
    /// SHA-1 (hex) of the real message an attack was injected into, as
    /// the corpus index computes it: the index puts the two in one group.
    pub carrier_sha1: Option<String>,
    /// What carries the bait (an attack's) or the look of it (ham's): the
    /// body, an HTML attachment, a PDF, a QR image or a callback number.
    pub payload: Payload,
}

/// The generator: world, templates and seed.
pub struct Generator {
    world: World,
    templates: Templates,
    seed: u64,
}

impl Generator {
    /// A generator over the built-in world and templates; `seed` fixes
    /// every byte it writes. An error means the built-in data is broken.
    pub fn new(seed: u64) -> Result<Generator, CorpusError> {
        Ok(Generator {
            world: World::builtin()?,
            templates: Templates::builtin()?,
            seed,
        })
    }

    /// The generator of message number `n` of stream `stream`: each
    /// message has its own, so any subset is reproducible alone.
    fn rng(&self, stream: u64, n: u64) -> ChaCha8Rng {
        let mut rng =
            ChaCha8Rng::seed_from_u64(self.seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        rng.set_stream(n);
        rng
    }

    /// Whether attack number `n` carries its lure in an attachment, a QR
    /// image or a callback number ([`payload::choose`]), from a stream of
    /// its own so that the other attacks keep their bytes.
    fn payload_of(
        &self,
        n: usize,
        technique: Technique,
        round: usize,
    ) -> Option<payload::PayloadLure> {
        let form = ambiguity::SpoofForm::ALL[round % ambiguity::SpoofForm::ALL.len()];
        payload::choose(&mut self.rng(4, n as u64), technique, form)
    }

    fn technique_of(n: usize) -> Technique {
        Technique::ALL[n % Technique::ALL.len()]
    }

    /// Attack number `n` as written: credential lures are phishing, the
    /// rest BEC.
    fn attack_message(n: usize, technique: Technique, a: attack::Attack) -> Generated {
        let label = Self::label_of(technique, &a.category);
        Generated {
            member: format!("{}/{n:06}.eml", label.as_str()),
            label,
            technique: Some(technique),
            kind: a.category,
            variant: a.variant,
            bytes: a.draft.to_bytes(),
            carrier_sha1: None,
            payload: a.payload,
        }
    }

    fn label_of(technique: Technique, category: &str) -> Label {
        if category == "credential_phish"
            || PAYLOAD_LURE_CATEGORIES.contains(&category)
            || technique == Technique::AccountCompromise && category != "bank_change"
        {
            Label::Phish
        } else {
            Label::Bec
        }
    }

    /// The embedded default corpus: `ham` messages of the example org and
    /// `attacks` attacks injected into more of its ham, the five
    /// techniques in turn.
    pub fn default_corpus(&self, ham_count: usize, attacks: usize) -> Vec<Generated> {
        let mut out = Vec::with_capacity(ham_count + attacks);
        for n in 0..ham_count {
            let mut rng = self.rng(1, n as u64);
            let h = ham(&mut rng, &self.world, &self.templates, HAM_KINDS);
            out.push(Generated {
                member: format!("ham/{n:06}.eml"),
                label: Label::Ham,
                technique: None,
                kind: h.kind.to_string(),
                variant: h.variant.code().to_string(),
                bytes: h.carrier.draft.to_bytes(),
                carrier_sha1: None,
                payload: h.payload,
            });
        }
        for n in 0..attacks {
            let mut rng = self.rng(2, n as u64);
            let h = ham(&mut rng, &self.world, &self.templates, HAM_KINDS);
            let technique = Self::technique_of(n);
            let round = n / Technique::ALL.len();
            let a = inject_payload(
                &mut rng,
                &self.world,
                &self.templates,
                technique,
                round,
                h.carrier,
                self.payload_of(n, technique, round),
            );
            out.push(Self::attack_message(n, technique, a));
        }
        out
    }

    /// `attacks` attacks injected into the real `carriers` (raw messages),
    /// the five techniques in turn, each delivered to a mailbox of the
    /// example org.
    pub fn inject_into(&self, carriers: &[Vec<u8>], attacks: usize) -> Vec<Generated> {
        let mut out = Vec::with_capacity(attacks);
        if carriers.is_empty() {
            return out;
        }
        for n in 0..attacks {
            let mut rng = self.rng(3, n as u64);
            let raw = &carriers[rng.gen_range(0..carriers.len())];
            let (draft, layout) = carrier_draft(raw);
            let lang = if rng.gen_bool(0.25) {
                Lang::Ja
            } else {
                Lang::En
            };
            let staff = if lang == Lang::Ja {
                &self.world.employee_ja
            } else {
                &self.world.employee
            };
            let recipient = staff
                .choose(&mut rng)
                .cloned()
                .expect("world has employees");
            let technique = Self::technique_of(n);
            let carrier = Carrier {
                draft,
                layout,
                extra: String::new(),
                recipient,
                lang,
            };
            let round = n / Technique::ALL.len();
            let a = inject_payload(
                &mut rng,
                &self.world,
                &self.templates,
                technique,
                round,
                carrier,
                self.payload_of(n, technique, round),
            );
            let mut m = Self::attack_message(n, technique, a);
            m.carrier_sha1 = Some(crate::manifest::hex(&crate::digests::sha1_one(raw)));
            out.push(m);
        }
        out
    }
}

/// Writes `messages` under `dir/messages/` and their labels to
/// `dir/labels.tsv` (member, label, technique, synthetic, kind,
/// carrier_sha1, variant, payload), all or nothing: into a temporary directory beside
/// `dir`, renamed into place at the end. `dir` must not exist yet.
pub fn write_corpus(dir: &Path, messages: &[Generated]) -> Result<(), CorpusError> {
    if dir.exists() {
        return Err(CorpusError::Invalid(format!(
            "{} exists; give a new directory (the generator never writes over a corpus)",
            dir.display()
        )));
    }
    let staged = StagedDir::beside(dir)?;
    let mut labels =
        String::from("member\tlabel\ttechnique\tsynthetic\tkind\tcarrier_sha1\tvariant\tpayload\n");
    for m in messages {
        staged.write(Path::new("messages").join(&m.member), &m.bytes)?;
        labels.push_str(&format!(
            "{}\t{}\t{}\ttrue\t{}\t{}\t{}\t{}\n",
            m.member,
            m.label,
            m.technique.map_or("none", |t| t.code()),
            m.kind,
            m.carrier_sha1.as_deref().unwrap_or(""),
            m.variant,
            m.payload.code()
        ));
    }
    staged.write("labels.tsv", labels.as_bytes())?;
    staged.commit(dir)?;
    Ok(())
}
