//! The volume-type matrix: the layouts a case runs over (as glusto's `runs_on`), each run a result of
//! its own (`301[disperse]`).
//!
//! A case lists its types with [`crate::Case::runs_on`]; the runner makes one variant per type and
//! gives its context the type ([`crate::Ctx::volume_type`]); the body creates its volume with
//! [`crate::Ctx::matrix_spec`]. Geometries are the ones glusto-tests and redant use by default.

/// A volume type of the matrix, with its default geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum VolumeType {
    /// 4 bricks, no redundancy.
    Distribute,
    /// 1 × 3.
    Replicate,
    /// 2 × 3.
    DistributedReplicate,
    /// 1 × (4 + 2).
    Disperse,
    /// 2 × (4 + 2).
    DistributedDisperse,
    /// 1 × (2 + 1).
    Arbiter,
    /// 2 × (2 + 1).
    DistributedArbiter,
}

impl VolumeType {
    /// Every type, in the order variants are listed and run.
    pub const ALL: &'static [VolumeType] = &[
        VolumeType::Distribute,
        VolumeType::Replicate,
        VolumeType::DistributedReplicate,
        VolumeType::Disperse,
        VolumeType::DistributedDisperse,
        VolumeType::Arbiter,
        VolumeType::DistributedArbiter,
    ];
    /// Types that keep a copy of every file on more than one brick (AFR).
    pub const REPLICATED: &'static [VolumeType] = &[
        VolumeType::Replicate,
        VolumeType::DistributedReplicate,
        VolumeType::Arbiter,
        VolumeType::DistributedArbiter,
    ];
    /// Erasure-coded types.
    pub const DISPERSED: &'static [VolumeType] =
        &[VolumeType::Disperse, VolumeType::DistributedDisperse];
    /// Types that survive losing one brick of each set.
    pub const REDUNDANT: &'static [VolumeType] = &[
        VolumeType::Replicate,
        VolumeType::DistributedReplicate,
        VolumeType::Disperse,
        VolumeType::DistributedDisperse,
        VolumeType::Arbiter,
        VolumeType::DistributedArbiter,
    ];
    /// Arbiter types.
    pub const ARBITER: &'static [VolumeType] =
        &[VolumeType::Arbiter, VolumeType::DistributedArbiter];

    /// The name used in variant ids and `-t '301[disperse]'`.
    pub fn name(self) -> &'static str {
        match self {
            VolumeType::Distribute => "distribute",
            VolumeType::Replicate => "replicate",
            VolumeType::DistributedReplicate => "distributed-replicate",
            VolumeType::Disperse => "disperse",
            VolumeType::DistributedDisperse => "distributed-disperse",
            VolumeType::Arbiter => "arbiter",
            VolumeType::DistributedArbiter => "distributed-arbiter",
        }
    }
    /// A short word for volume names (`t301ec-...`).
    pub fn short(self) -> &'static str {
        match self {
            VolumeType::Distribute => "dist",
            VolumeType::Replicate => "rep",
            VolumeType::DistributedReplicate => "drep",
            VolumeType::Disperse => "ec",
            VolumeType::DistributedDisperse => "dec",
            VolumeType::Arbiter => "arb",
            VolumeType::DistributedArbiter => "darb",
        }
    }
    /// The type named `name` (as [`VolumeType::name`] spells it).
    pub fn parse(name: &str) -> Option<VolumeType> {
        VolumeType::ALL.iter().copied().find(|t| t.name() == name)
    }
}

impl std::fmt::Display for VolumeType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_geometries_match_the_defaults() {
        for t in VolumeType::ALL {
            assert_eq!(VolumeType::parse(t.name()), Some(*t));
        }
        assert_eq!(VolumeType::parse("ec"), None);
    }
}
