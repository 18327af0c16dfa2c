//! The detectors an evaluation can run, one file each.
