//! One module per subcommand.

pub mod bench;
pub mod corpus;
pub mod eval;
pub mod extract;
pub mod features;
pub mod gen;
pub mod lookalike;
pub mod milter;
pub mod peers;
pub mod scan;
pub mod serve;
pub mod train;
