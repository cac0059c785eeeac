//! Where the next case runs: pure placement over the pool's labs (no I/O, table-tested).
//!
//! A disruptive case needs a lab to itself; when none is idle, the least busy lab is drained (no
//! new case starts on it) so the disruptive case gets it next instead of waiting forever behind a
//! stream of shared cases. Other cases share the least busy lab that is not held, drained or being
//! reset.

/// What placement knows of one lab.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LabLoad {
    /// Cases running on it.
    pub running: usize,
    /// A disruptive case holds it.
    pub held: bool,
    /// It is being reset or recreated.
    pub resetting: bool,
    /// Kept free for a disruptive case.
    pub draining: bool,
    /// It could not be brought back: nothing runs on it any more.
    pub broken: bool,
    /// Its nodes meet the case's needs.
    pub fits: bool,
}

impl LabLoad {
    fn usable(&self) -> bool {
        self.fits && !self.broken
    }
}

/// Where a case goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Placement {
    /// Start it on this lab.
    Run(usize),
    /// Keep this lab free for it (drain), and wait.
    Drain(usize),
    /// Wait: a fitting lab will be free.
    Wait,
    /// No lab of the pool fits it, or every fitting lab is broken.
    Never,
}

/// Places a case (`disruptive` or not) on `labs`; `drained` is the lab already kept for it.
pub fn place(disruptive: bool, labs: &[LabLoad], drained: Option<usize>) -> Placement {
    let usable: Vec<usize> = (0..labs.len()).filter(|&i| labs[i].usable()).collect();
    if usable.is_empty() {
        return Placement::Never;
    }
    let least = |ok: &dyn Fn(&LabLoad) -> bool| {
        usable
            .iter()
            .copied()
            .filter(|&i| ok(&labs[i]))
            .min_by_key(|&i| (labs[i].running, i))
    };
    if disruptive {
        if let Some(i) = drained.filter(|&i| labs[i].usable()) {
            let l = &labs[i];
            return if l.running == 0 && !l.held && !l.resetting {
                Placement::Run(i)
            } else {
                Placement::Wait
            };
        }
        if let Some(i) = least(&|l| l.running == 0 && !l.held && !l.resetting && !l.draining) {
            return Placement::Run(i);
        }
        return match least(&|l| !l.held && !l.draining) {
            Some(i) => Placement::Drain(i),
            None => Placement::Wait,
        };
    }
    match least(&|l| !l.held && !l.resetting && !l.draining) {
        Some(i) => Placement::Run(i),
        None => Placement::Wait,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lab(running: usize) -> LabLoad {
        LabLoad {
            running,
            fits: true,
            ..LabLoad::default()
        }
    }

    #[test]
    fn shared_cases_go_to_the_least_busy_free_lab() {
        assert_eq!(place(false, &[lab(2), lab(1)], None), Placement::Run(1));
        assert_eq!(place(false, &[lab(0), lab(0)], None), Placement::Run(0));
        let held = LabLoad {
            held: true,
            ..lab(1)
        };
        assert_eq!(place(false, &[held, lab(3)], None), Placement::Run(1));
        let draining = LabLoad {
            draining: true,
            ..lab(0)
        };
        assert_eq!(place(false, &[draining], None), Placement::Wait);
        let resetting = LabLoad {
            resetting: true,
            ..lab(0)
        };
        assert_eq!(place(false, &[resetting, lab(4)], None), Placement::Run(1));
    }

    #[test]
    fn disruptive_cases_get_an_idle_lab_or_drain_one() {
        assert_eq!(place(true, &[lab(1), lab(0)], None), Placement::Run(1));
        assert_eq!(place(true, &[lab(2), lab(1)], None), Placement::Drain(1));
        // Once drained, it waits for that lab only, and takes it when idle.
        let drained = LabLoad {
            draining: true,
            ..lab(1)
        };
        assert_eq!(place(true, &[lab(2), drained], Some(1)), Placement::Wait);
        let idle = LabLoad {
            draining: true,
            ..lab(0)
        };
        assert_eq!(place(true, &[lab(2), idle], Some(1)), Placement::Run(1));
        // A held lab is never shared, nor drained again.
        let held = LabLoad {
            held: true,
            ..lab(1)
        };
        assert_eq!(place(true, &[held], None), Placement::Wait);
    }

    #[test]
    fn no_fitting_lab_means_never() {
        let small = LabLoad {
            fits: false,
            ..lab(0)
        };
        assert_eq!(place(false, &[small], None), Placement::Never);
        let broken = LabLoad {
            broken: true,
            ..lab(0)
        };
        assert_eq!(place(true, &[broken, small], None), Placement::Never);
    }
}
