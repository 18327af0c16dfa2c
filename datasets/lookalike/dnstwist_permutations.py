#!/usr/bin/env python3
"""Every dnstwist permutation of each protected domain, offline.

Usage: dnstwist_permutations.py DOMAINS WORDS TLDS > permutations.tsv

DOMAINS: one domain a line (the first column; '#' comments). WORDS and TLDS:
the dictionary and TLD lists handed to dnstwist's dictionary and tld-swap
fuzzers. Output: one line per permutation, "fuzzer<TAB>permutation<TAB>
original", punycode for IDN. Uses dnstwist.Fuzzer(...).generate(), which
does no DNS; dnstwist's CLI would resolve every name, so it is not used.
"""
import sys

import dnstwist


def read_list(path):
    with open(path, encoding="utf-8") as f:
        return [l.split("#")[0].split()[0].lower() for l in f if l.split("#")[0].strip()]


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    domains, words, tlds = (read_list(p) for p in sys.argv[1:])
    out = sys.stdout
    for domain in domains:
        fuzzer = dnstwist.Fuzzer(domain, dictionary=words, tld_dictionary=list(tlds))
        fuzzer.generate()
        for p in sorted(fuzzer.domains, key=lambda p: (p["fuzzer"], p["domain"])):
            if p["fuzzer"] == "*original":
                continue
            out.write(f"{p['fuzzer']}\t{p['domain']}\t{domain}\n")


if __name__ == "__main__":
    main()
