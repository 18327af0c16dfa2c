//! One module per subcommand.

pub mod corpus;
pub mod extract;
pub mod features;
pub mod gen;
pub mod lookalike;
pub mod milter;
pub mod scan;
pub mod serve;
pub mod train;
