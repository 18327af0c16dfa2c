#!/usr/bin/env python3
"""Builds the popular-domain list of the lookalike check.

Usage: build_popular_domains.py [SHARED]   (default: ../shared beside the repo)

A domain on this list is a registrable domain real, popular senders and
sites use. When a domain seen in mail is one edit away from a protected one
but is itself on this list (zoom.com beside zoom.us, box.com beside
xbox.com), it is still reported, at a very low strength: its owner is a
known, long-standing party, not an attacker who registered it last week.

Sources (all under SHARED/):
  lists/top_sites/tranco_top1000_*.csv                   Tranco top 1,000
  lists/top_sites/npm-top-sites-*.json                   Moz top 500
  lists/top_sites/spamassassin-*_welcomelist_sender_domains.txt
  lists/freemail/*  (the domain lists, not the .cf rule files' prose)
  corpora/{spamassassin-2002,csdmc2010-a,lists-2019-2026}.tar.gz: the
      From, Sender and Return-Path registrable domains of HAM messages only
      (labels from the .tsv indexes); phishing and spam senders never.

Free-mail lists and corpus senders are second-hand: they hold typo domains
(gmial.com, hotmial.com are on the npm free-email-domains list), so an
entry of theirs one edit or glyph away from a first-tier domain (the three
top-site lists and crates/features/data/brand_list.tsv) is left out.

Writes datasets/lookalike/popular-domains.txt (the source of truth) and the
copy the features crate embeds, crates/features/data/popular_domains.txt;
a test in the features crate checks the two are the same.
"""
import email.parser
import email.policy
import email.utils
import json
import re
import sys
import tarfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "datasets/lookalike/popular-domains.txt"
COPY = REPO / "crates/features/data/popular_domains.txt"
BRAND_LIST = REPO / "crates/features/data/brand_list.tsv"
MAX_LINES = 20_000
DOMAIN = re.compile(r"^(?=.{3,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z][a-z0-9-]{1,62}$")


class Psl:
    """Registrable domain (eTLD+1) from the public suffix list: rules,
    wildcards and exceptions, ICANN and private sections alike."""

    def __init__(self, path):
        self.rules, self.wild, self.exceptions = set(), set(), set()
        for line in path.read_text(encoding="utf-8").splitlines():
            line = line.strip()
            if not line or line.startswith("//"):
                continue
            rule = line.split()[0].encode("idna").decode("ascii") if not line.isascii() else line.split()[0]
            if rule.startswith("!"):
                self.exceptions.add(rule[1:])
            elif rule.startswith("*."):
                self.wild.add(rule[2:])
            else:
                self.rules.add(rule)

    def suffix_len(self, labels):
        """How many trailing labels are the public suffix."""
        best = 1  # the implicit "*" rule
        for n in range(1, len(labels) + 1):
            cand = ".".join(labels[-n:])
            if cand in self.exceptions:
                return n - 1
            if cand in self.rules:
                best = max(best, n)
            if n > 1 and ".".join(labels[-(n - 1):]) in self.wild:
                best = max(best, n)
        return best

    def registrable(self, domain):
        domain = domain.strip().lower().rstrip(".")
        if domain.startswith("www."):
            domain = domain[4:]
        if not DOMAIN.match(domain):
            return None
        labels = domain.split(".")
        n = self.suffix_len(labels)
        if n >= len(labels):
            return None
        return ".".join(labels[-(n + 1):])


def read_lines(path):
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.split("#")[0].strip()
        if line:
            yield line


def freemail_domains(folder):
    """Domains of every list in the folder: .txt one a line, .json arrays,
    and the `freemail_domains` lines of SpamAssassin's .cf files (wildcard
    entries left out: they name no one domain)."""
    for path in sorted(folder.iterdir()):
        if path.suffix == ".txt" and "sources" not in path.name:
            yield from read_lines(path)
        elif path.suffix == ".json":
            yield from json.loads(path.read_text(encoding="utf-8"))
        elif path.suffix == ".cf":
            for line in read_lines(path):
                if line.startswith("freemail_domains"):
                    yield from (d for d in line.split()[1:] if "*" not in d)


def ham_members(corpora):
    """(archive, member names) of the ham messages, from the .tsv indexes."""
    for name in ["spamassassin-2002", "csdmc2010-a", "lists-2019-2026"]:
        tsv = corpora / f"{name}.tsv"
        members = set()
        for i, line in enumerate(tsv.read_text(encoding="utf-8").splitlines()):
            cols = line.split("\t")
            if i == 0 or len(cols) < 3:
                continue
            if cols[2] == "ham":
                members.add(cols[0])
        yield corpora / f"{name}.tar.gz", members


def sender_domains(archive, members):
    parser = email.parser.BytesHeaderParser(policy=email.policy.compat32)
    with tarfile.open(archive) as tar:
        for info in tar:
            if not info.isfile() or info.name not in members:
                continue
            raw = tar.extractfile(info).read(64 * 1024)
            try:
                msg = parser.parsebytes(raw)
            except Exception:  # a malformed header block: skip the message
                continue
            for header in ("From", "Sender", "Return-Path"):
                for value in msg.get_all(header) or []:
                    for _, addr in email.utils.getaddresses([str(value)]):
                        if "@" in addr:
                            yield addr.rsplit("@", 1)[1].strip(" >").lower()


def skeleton(label):
    """A coarse reading of a label: what it looks like at a glance."""
    for a, b in (("rn", "m"), ("vv", "w"), ("cl", "d"), ("0", "o"), ("1", "l"), ("i", "l")):
        label = label.replace(a, b)
    return label


def one_edit(a, b):
    """Whether one insertion, deletion, substitution or adjacent swap turns
    a into b (or they read alike)."""
    if a == b or skeleton(a) == skeleton(b):
        return True
    if abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    return any(long_[:i] + long_[i + 1:] == short for i in range(len(long_)))


def main():
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else REPO.parent / "shared"
    psl = Psl(shared / "lists/public_suffix/public_suffix_list.dat")
    top = shared / "lists/top_sites"

    def reg_all(domains):
        return {r for r in map(psl.registrable, domains) if r}

    tranco_csv = next(top.glob("tranco_top1000_*.csv"))
    tranco = reg_all(l.split(",")[1] for l in read_lines(tranco_csv) if "," in l and not l.startswith("rank"))
    moz = reg_all(e["rootDomain"] for e in json.loads(next(top.glob("npm-top-sites-*.json")).read_text()))
    sa = reg_all(read_lines(next(top.glob("spamassassin-*_welcomelist_sender_domains.txt"))))
    brands = set()
    for line in read_lines(BRAND_LIST):
        if "\t" in line:
            brands |= reg_all(line.split("\t", 1)[1].split())
    first = tranco | moz | sa

    freemail = reg_all(freemail_domains(shared / "lists/freemail"))
    ham = set()
    for archive, members in ham_members(shared / "corpora"):
        ham |= reg_all(sender_domains(archive, members))

    # Second-hand entries one edit from a first-tier name are typo domains.
    guarded = first | brands
    by_len = {}
    for d in guarded:
        label = d.split(".")[0]
        if len(label) >= 4:
            by_len.setdefault(len(label), set()).add(label)

    def typo(domain):
        label = domain.split(".")[0]
        if domain in guarded:
            return False
        near = set().union(*(by_len.get(len(label) + k, set()) for k in (-1, 0, 1)))
        return any(one_edit(label, g) for g in near if g != label) or any(
            skeleton(label) == skeleton(g) for g in near if g != label
        )

    second = (freemail | ham) - first
    typos = sorted(d for d in second if typo(d))
    second -= set(typos)
    popular = sorted(first | second)
    assert len(popular) <= MAX_LINES, f"{len(popular)} lines: more than {MAX_LINES}"

    header = f"""# Popular registrable domains: real, long-standing senders and sites.
# Used by the lookalike check (crates/features/src/lookalike): a domain one
# edit away from a protected one that is itself on this list is still
# reported, at a strength of 0.1 or less.
# Built by datasets/lookalike/build_popular_domains.py from ../shared:
#   Tranco top 1,000 (2025-09): {len(tranco)} registrable domains
#   Moz top 500 (npm top-sites 1.1.222): {len(moz)}
#   SpamAssassin 4.0.1 welcome-list sender domains: {len(sa)}
#   free-mail lists (SpamAssassin 4.0.1, npm freemail 1.7.0, npm
#     free-email-domains 1.12.6, PyPI free-email-domains 1.0.2): {len(freemail)}
#   From/Sender/Return-Path domains of the HAM of spamassassin-2002,
#     csdmc2010-a and lists-2019-2026 (never phish or spam): {len(ham)}
# Left out: {len(typos)} free-mail or corpus domains one edit or glyph away
# from a top-site or brand-list domain (typo domains such as gmial.com).
# {len(popular)} domains. Source of truth: datasets/lookalike/popular-domains.txt;
# crates/features/data/popular_domains.txt is a copy (a test compares them).
"""
    text = header + "".join(d + "\n" for d in popular)
    OUT.write_text(text, encoding="utf-8")
    COPY.write_text(text, encoding="utf-8")
    print(f"{len(popular)} domains; {len(typos)} typo domains left out: {' '.join(typos[:40])} …", file=sys.stderr)


if __name__ == "__main__":
    main()
