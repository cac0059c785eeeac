//! Lab lifecycle subcommands: images, up, down, ls, status, exec, logs, nodes (owned by the lab work).

macro_rules! pending {
    ($($args:ident => $f:ident),*) => {$(
        /// Arguments (pending).
        #[derive(Debug, clap::Args)]
        pub struct $args {}
        /// Runs the subcommand (pending).
        pub async fn $f(_a: $args) -> anyhow::Result<i32> {
            anyhow::bail!(concat!("gflab ", stringify!($f), " is not implemented yet"))
        }
    )*};
}
pending!(ImagesArgs => images, UpArgs => up, DownArgs => down, LsArgs => ls, StatusArgs => status,
         ExecArgs => exec, LogsArgs => logs, NodesArgs => nodes);
