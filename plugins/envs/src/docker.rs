//! The `docker` environment: the `local` environment's workspace copy, WASM
//! tools, patch and test judging, with `execute_bash` and the tests running
//! inside a container of the task's image through the Docker Engine API.
//!
//! [`Environment::reset`] copies the task's workspace to a host temporary
//! folder and starts a named container on it: no network, a read-only root
//! with a private tmpfs `/tmp`, memory and PID limits, every capability
//! dropped, `no-new-privileges`, a non-root user, `docker-init` as PID 1 and
//! the workspace bind-mounted read-write at the mount path. `file_editor`
//! and `search` keep running as WASM modules on the host over that same
//! folder, so their edits and bash's are one workspace. Each `execute_bash`
//! call is one exec of `/bin/bash -c CMD` (stdout and stderr merged), with
//! the `local` sandbox's observation format and truncation. When a command
//! outlives its deadline the container is removed, which kills every process
//! it holds (`setsid` escapees included), and the next call starts a fresh
//! one on the same workspace (only `/tmp` is lost). The container is also
//! removed on the next reset, on drop (panics unwinding included) and, should
//! entropo die without unwinding, by the engine once its keep-alive command
//! ends after `max_lifetime_secs`.
//!
//! Episodes are spread over the configured engines: each reset picks the
//! engine holding the fewest of this process's containers (ties in turn),
//! falling back to the next one when an engine cannot be reached.
//!
//! ```no_run
//! use entropo_core::environment::{Environment, ToolCall};
//! use entropo_envs::docker::{DockerEnv, DockerParams};
//! let params = DockerParams { endpoints: vec!["unix:///run/entropo-docker/docker.sock".into()], ..DockerParams::default() };
//! let mut env = DockerEnv::new(params).unwrap();
//! # let task: entropo_core::types::Task = unimplemented!();
//! env.reset(&task).unwrap();
//! let call = ToolCall { name: "execute_bash".into(), params: [("cmd".to_string(), "ls".to_string())].into() };
//! println!("{}", env.step(&call).unwrap().observation);
//! ```

use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock, PoisonError};
use std::time::Duration;

use bollard::Docker;
use bollard::errors::Error as DockerError;
use bollard::exec::{CreateExecOptions, StartExecResults};
use bollard::models::{ContainerCreateBody, HostConfig, Mount, MountType};
use bollard::query_parameters::{CreateContainerOptions, RemoveContainerOptions, StartContainerOptions};
use entropo_core::environment::{EnvError, Environment, StepResult, TestReport, ToolCall, ToolSpec};
use entropo_core::registry::PluginError;
use entropo_core::types::Task;
use futures_util::StreamExt;
use schemars::JsonSchema;
use serde::Deserialize;

use crate::bash::{self, BashRun, CappedOutput, SANDBOX_ENV, Sandbox};
use crate::local::{
    Checkout, bad, default_step_timeout, default_test_timeout, default_uid, default_wasm_fuel, default_wasm_memory,
    r2e_tools, tool_limits, validate_common,
};
use crate::wasm::ToolLimits;

/// The image the set-up builds locally (`scripts/docker.sh image`), used
/// when neither the task nor the params name one.
pub const DEFAULT_IMAGE: &str = "entropo/base:bookworm";

/// The engine used when neither the params nor `DOCKER_HOST` name one.
pub const DEFAULT_ENDPOINT: &str = "unix:///var/run/docker.sock";

/// Label every container of this environment carries (value `docker`), so
/// leftovers can be listed with `docker ps -a --filter label=entropo.env`.
pub const CONTAINER_LABEL: &str = "entropo.env";

/// Prefix of every container name.
pub const CONTAINER_PREFIX: &str = "entropo-";

/// Seconds one Engine API request may take before it is abandoned.
const REQUEST_TIMEOUT_SECS: u64 = 120;

/// Output kept from one `execute_bash` call and from a test run, bytes.
const BASH_OUTPUT_BYTES: usize = 4 << 20;
const TEST_OUTPUT_BYTES: usize = 64 << 20;

/// Parameters of the `docker` environment.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DockerParams {
    /// Docker engines to spread episodes over: `unix:///path/docker.sock`
    /// or `tcp://host:port` (default: `DOCKER_HOST`, else
    /// `unix:///var/run/docker.sock`). A remote engine bind-mounts the
    /// workspace from its own file system: set `work_dir` to a folder it
    /// sees at the same path.
    #[serde(default)]
    pub endpoints: Vec<String>,
    /// The container image when the task names none.
    #[serde(default = "default_image")]
    pub image: String,
    /// Where the workspace appears in the container and to the tools
    /// (default: the task's `mount_at`, itself `/testbed` by default).
    #[serde(default)]
    pub mount_at: Option<String>,
    /// Wall-clock limit of one tool call, seconds (the paper: 90).
    #[serde(default = "default_step_timeout")]
    pub step_timeout_secs: u64,
    /// Wall-clock limit of the test run, seconds.
    #[serde(default = "default_test_timeout")]
    pub test_timeout_secs: u64,
    /// Memory limit of the container, MiB (no swap on top).
    #[serde(default = "default_memory")]
    pub memory_mb: u64,
    /// Processes (threads included) the container may hold at once.
    #[serde(default = "default_pids")]
    pub pids_limit: u64,
    /// Linear-memory cap of a tool module, MiB (at most 1024).
    #[serde(default = "default_wasm_memory")]
    pub wasm_memory_mb: u64,
    /// Fuel (about one unit per WASM instruction) of one tool-module call.
    #[serde(default = "default_wasm_fuel")]
    pub wasm_fuel: u64,
    /// Host uid (and gid) that owns the workspace and runs the container's
    /// processes when entropo runs as root (otherwise entropo's own uid).
    #[serde(default = "default_uid")]
    pub sandbox_uid: u32,
    /// Folder the episode folders are made in (default: the system's
    /// temporary folder).
    #[serde(default)]
    pub work_dir: Option<PathBuf>,
    /// Seconds after which a container removes itself even if entropo died
    /// without cleaning up (its keep-alive command ends).
    #[serde(default = "default_lifetime")]
    pub max_lifetime_secs: u64,
}

fn default_image() -> String {
    DEFAULT_IMAGE.to_string()
}
fn default_memory() -> u64 {
    4096
}
fn default_pids() -> u64 {
    512
}
fn default_lifetime() -> u64 {
    86_400
}

impl Default for DockerParams {
    fn default() -> Self {
        DockerParams {
            endpoints: Vec::new(),
            image: default_image(),
            mount_at: None,
            step_timeout_secs: default_step_timeout(),
            test_timeout_secs: default_test_timeout(),
            memory_mb: default_memory(),
            pids_limit: default_pids(),
            wasm_memory_mb: default_wasm_memory(),
            wasm_fuel: default_wasm_fuel(),
            sandbox_uid: default_uid(),
            work_dir: None,
            max_lifetime_secs: default_lifetime(),
        }
    }
}

impl DockerParams {
    /// Checks ranges and endpoint schemes, naming the offending parameter.
    pub fn validate(&self) -> Result<(), PluginError> {
        validate_common(&self.mount_at, self.step_timeout_secs, self.test_timeout_secs, self.wasm_memory_mb, self.wasm_fuel)?;
        if let Some(e) = self.endpoints.iter().find(|e| parse_endpoint(e).is_none()) {
            return bad("endpoints", format!("{e:?} is neither unix:///path/to/docker.sock nor tcp://host:port"));
        }
        if self.image.trim().is_empty() {
            return bad("image", "must not be empty".into());
        }
        if self.memory_mb < 64 {
            return bad("memory_mb", "must be at least 64".into());
        }
        if self.pids_limit < 8 {
            return bad("pids_limit", "must be at least 8".into());
        }
        if self.sandbox_uid == 0 {
            return bad("sandbox_uid", "must not be root (0)".into());
        }
        if self.max_lifetime_secs < self.test_timeout_secs {
            return bad("max_lifetime_secs", "must be at least test_timeout_secs".into());
        }
        Ok(())
    }

    /// The engines to use: the configured ones, else `DOCKER_HOST`, else
    /// the standard socket.
    pub fn resolved_endpoints(&self) -> Vec<String> {
        if !self.endpoints.is_empty() {
            return self.endpoints.clone();
        }
        let host = std::env::var("DOCKER_HOST").ok().filter(|h| !h.trim().is_empty());
        vec![host.unwrap_or_else(|| DEFAULT_ENDPOINT.to_string())]
    }
}

/// How an endpoint is reached.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Endpoint<'a> {
    /// A Unix socket path.
    Unix(&'a str),
    /// `host:port` over plain HTTP.
    Tcp(&'a str),
}

fn parse_endpoint(endpoint: &str) -> Option<Endpoint<'_>> {
    if let Some(path) = endpoint.strip_prefix("unix://") {
        return path.starts_with('/').then_some(Endpoint::Unix(path));
    }
    let addr = endpoint.strip_prefix("tcp://").or_else(|| endpoint.strip_prefix("http://"))?;
    let (host, port) = addr.trim_end_matches('/').rsplit_once(':')?;
    (!host.is_empty() && port.parse::<u16>().is_ok()).then_some(Endpoint::Tcp(addr))
}

/// The process-wide runtime driving the Engine API clients (two worker
/// threads; every environment shares it).
fn runtime() -> Result<&'static tokio::runtime::Runtime, EnvError> {
    static RUNTIME: OnceLock<Result<tokio::runtime::Runtime, String>> = OnceLock::new();
    RUNTIME
        .get_or_init(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .thread_name("entropo-docker")
                .enable_all()
                .build()
                .map_err(|e| e.to_string())
        })
        .as_ref()
        .map_err(|e| EnvError::Sandbox(format!("cannot start the Docker client runtime: {e}")))
}

/// Runs `future` to completion from synchronous code, also when called
/// from inside another async runtime (then on a helper thread).
fn block_on<F>(future: F) -> Result<F::Output, EnvError>
where
    F: Future + Send,
    F::Output: Send,
{
    let rt = runtime()?;
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(rt.block_on(future));
    }
    std::thread::scope(|s| s.spawn(|| rt.block_on(future)).join())
        .map_err(|_| EnvError::Sandbox("the Docker client thread panicked".into()))
}

/// Containers this process holds per endpoint, for least-busy selection.
static LOAD: Mutex<BTreeMap<String, usize>> = Mutex::new(BTreeMap::new());
/// Where the next tie-break starts.
static TURN: AtomicUsize = AtomicUsize::new(0);

/// One container counted against an endpoint while it lives.
struct Lease(String);

impl Lease {
    fn take(endpoint: &str) -> Lease {
        *LOAD.lock().unwrap_or_else(PoisonError::into_inner).entry(endpoint.to_string()).or_default() += 1;
        Lease(endpoint.to_string())
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        if let Some(n) = LOAD.lock().unwrap_or_else(PoisonError::into_inner).get_mut(&self.0) {
            *n = n.saturating_sub(1);
        }
    }
}

/// `endpoints` from least to most busy; ties in turn (round-robin).
fn by_load(endpoints: &[String]) -> Vec<String> {
    let start = TURN.fetch_add(1, Ordering::Relaxed);
    let load = LOAD.lock().unwrap_or_else(PoisonError::into_inner);
    let mut order: Vec<String> = (0..endpoints.len()).map(|i| endpoints[(start + i) % endpoints.len()].clone()).collect();
    order.sort_by_key(|e| load.get(e).copied().unwrap_or(0));
    order
}

/// A client of `endpoint`, its API version negotiated down to the engine's.
async fn connect(endpoint: &str) -> Result<Docker, DockerError> {
    let docker = match parse_endpoint(endpoint) {
        Some(Endpoint::Unix(path)) => Docker::connect_with_unix(path, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)?,
        _ => Docker::connect_with_http(endpoint, REQUEST_TIMEOUT_SECS, bollard::API_DEFAULT_VERSION)?,
    };
    docker.negotiate_version().await
}

/// The HTTP status of an engine's error answer, if it was one.
fn status(e: &DockerError) -> Option<u16> {
    match e {
        DockerError::DockerResponseServerError { status_code, .. } => Some(*status_code),
        _ => None,
    }
}

/// A unique container name.
fn container_name() -> String {
    static NEXT: AtomicUsize = AtomicUsize::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{CONTAINER_PREFIX}{}-{}-{nanos:08x}", std::process::id(), NEXT.fetch_add(1, Ordering::Relaxed))
}

/// Force-removes `name`; a container already gone is fine.
async fn remove(docker: &Docker, name: &str) -> Result<(), DockerError> {
    let options = RemoveContainerOptions { force: true, v: true, ..Default::default() };
    match docker.remove_container(name, Some(options)).await {
        Err(e) if matches!(status(&e), Some(404 | 409)) => Ok(()),
        other => other,
    }
}

/// Whether the container `name` exists and runs.
async fn running(docker: &Docker, name: &str) -> Result<bool, DockerError> {
    match docker.inspect_container(name, None).await {
        Ok(info) => Ok(info.state.and_then(|s| s.running) == Some(true)),
        Err(e) if status(&e) == Some(404) => Ok(false),
        Err(e) => Err(e),
    }
}

/// How one exec ended.
enum Exec {
    /// The command ran: its output and exit code (`None` past the deadline).
    Ran(BashRun),
    /// The runtime never started it (the container is stopping, or the image
    /// has no `/bin/sh`), saying why.
    Refused(String),
}

/// Runs `script` with bash in `container`, from `mount`.
async fn exec(
    docker: &Docker,
    container: &str,
    mount: &str,
    script: &str,
    timeout: Duration,
    cap: usize,
) -> Result<Exec, DockerError> {
    // `sh` merges stderr into stdout before bash starts, so the output
    // interleaves exactly as in the local sandbox and bash's `$0` is the same.
    let cmd = ["/bin/sh", "-c", "exec \"$@\" 2>&1", "sh", "/bin/bash", "-c", script];
    let options = CreateExecOptions {
        attach_stdout: Some(true),
        attach_stderr: Some(true),
        cmd: Some(cmd.iter().map(|s| s.to_string()).collect()),
        working_dir: Some(mount.to_string()),
        ..Default::default()
    };
    let id = docker.create_exec(container, options).await?.id;
    let run = async {
        let mut kept = CappedOutput::new(cap);
        if let StartExecResults::Attached { mut output, .. } = docker.start_exec(&id, None).await? {
            while let Some(chunk) = output.next().await {
                kept.push(&chunk?.into_bytes());
            }
        }
        // The engine records the exit code just after the output ends.
        let mut pause = Duration::from_millis(1);
        loop {
            let info = docker.inspect_exec(&id).await?;
            if info.running != Some(true) {
                if info.pid.unwrap_or(0) == 0 {
                    return Ok(Exec::Refused(kept.finish()));
                }
                let code = info.exit_code.map_or(-1, |c| i32::try_from(c).unwrap_or(-1));
                return Ok(Exec::Ran(BashRun { output: kept.finish(), exit_code: Some(code) }));
            }
            tokio::time::sleep(pause).await;
            pause = (pause * 2).min(Duration::from_millis(50));
        }
    };
    match tokio::time::timeout(timeout, run).await {
        Ok(result) => result,
        Err(_) => Ok(Exec::Ran(BashRun { output: String::new(), exit_code: None })),
    }
}

/// One episode's state.
struct Episode {
    checkout: Checkout,
    container: Container,
}

/// An episode's container on one engine, removed on drop.
struct Container {
    docker: Docker,
    endpoint: String,
    /// What a fresh container of this episode is made from.
    spec: ContainerCreateBody,
    /// The running container; `None` once a timeout removed it.
    name: Option<String>,
    _lease: Lease,
}

impl Container {
    /// Creates and starts a container of `spec`, returning its name; a
    /// half-made one is removed.
    async fn start(docker: &Docker, spec: &ContainerCreateBody) -> Result<String, DockerError> {
        let name = container_name();
        let options = CreateContainerOptions { name: Some(name.clone()), ..Default::default() };
        docker.create_container(Some(options), spec.clone()).await?;
        if let Err(e) = docker.start_container(&name, None::<StartContainerOptions>).await {
            let _ = remove(docker, &name).await;
            return Err(e);
        }
        Ok(name)
    }

    /// Runs `script` in the container from `mount` (starting a fresh
    /// container if a timeout removed the last, or if it died), removing the
    /// container past the deadline.
    fn run(&mut self, mount: &str, script: &str, timeout: Duration, cap: usize) -> Result<BashRun, EnvError> {
        let Container { docker, endpoint, spec, name: slot, .. } = self;
        let engine_err = |e: DockerError| EnvError::Sandbox(format!("Docker engine {endpoint}: {e}"));
        block_on(async {
            let mut fresh = false;
            loop {
                let name = match slot {
                    Some(name) => name.clone(),
                    None => {
                        fresh = true;
                        slot.insert(Container::start(docker, spec).await.map_err(engine_err)?).clone()
                    }
                };
                let result = exec(docker, &name, mount, script, timeout, cap).await;
                // The container is gone, stopped or stopping (the agent
                // killed its keep-alive, say), so the command never started:
                // replace the container, once.
                let never_started = match &result {
                    Err(e) => status(e).is_some() && !running(docker, &name).await.map_err(engine_err)?,
                    Ok(exec) => matches!(exec, Exec::Refused(_)),
                };
                if never_started && !fresh {
                    *slot = None;
                    remove(docker, &name).await.map_err(engine_err)?;
                    continue;
                }
                match result {
                    Err(e) => return Err(engine_err(e)),
                    Ok(Exec::Refused(why)) => {
                        return Err(EnvError::Sandbox(format!(
                            "container {name} on {endpoint} cannot run commands: {}",
                            why.trim()
                        )));
                    }
                    Ok(Exec::Ran(run)) => {
                        if run.exit_code.is_none() {
                            // Removing the container kills every process in it.
                            *slot = None;
                            remove(docker, &name).await.map_err(engine_err)?;
                        }
                        return Ok(run);
                    }
                }
            }
        })?
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        if let Some(name) = self.name.take() {
            let _ = block_on(remove(&self.docker, &name));
        }
    }
}

/// The `docker` environment (see the module docs).
pub struct DockerEnv {
    params: DockerParams,
    endpoints: Vec<String>,
    clients: HashMap<String, Docker>,
    episode: Option<Episode>,
}

impl DockerEnv {
    /// A new environment; nothing is contacted until [`Environment::reset`].
    pub fn new(params: DockerParams) -> Result<DockerEnv, PluginError> {
        params.validate()?;
        let endpoints = params.resolved_endpoints();
        if let Some(e) = endpoints.iter().find(|e| parse_endpoint(e).is_none()) {
            bad("endpoints", format!("DOCKER_HOST={e:?} is neither unix:///path/to/docker.sock nor tcp://host:port"))?;
        }
        Ok(DockerEnv { params, endpoints, clients: HashMap::new(), episode: None })
    }

    /// The engines episodes are spread over.
    pub fn endpoints(&self) -> &[String] {
        &self.endpoints
    }

    /// The engine of the current episode, once reset.
    pub fn endpoint(&self) -> Option<&str> {
        self.episode.as_ref().map(|e| e.container.endpoint.as_str())
    }

    /// The name of the current container, if one is running.
    pub fn container(&self) -> Option<&str> {
        self.episode.as_ref().and_then(|e| e.container.name.as_deref())
    }

    /// The host path of the current workspace, once reset.
    pub fn workspace(&self) -> Option<&Path> {
        self.episode.as_ref().map(|e| e.checkout.workspace.as_path())
    }

    fn limits(&self) -> ToolLimits {
        tool_limits(self.params.wasm_fuel, self.params.wasm_memory_mb, self.params.step_timeout_secs)
    }

    fn episode(&mut self) -> Result<&mut Episode, EnvError> {
        self.episode.as_mut().ok_or_else(|| EnvError::Sandbox("the docker environment was used before reset()".into()))
    }

    /// What a container of `image` on `checkout` is made from.
    fn spec(&self, image: &str, checkout: &Checkout) -> Result<ContainerCreateBody, EnvError> {
        use std::os::unix::fs::MetadataExt;
        let owner = std::fs::metadata(&checkout.workspace)?;
        let memory = i64::try_from(self.params.memory_mb << 20).unwrap_or(i64::MAX);
        let tmp = format!("rw,nosuid,nodev,size={}", Sandbox::default().tmp_bytes);
        Ok(ContainerCreateBody {
            image: Some(image.to_string()),
            cmd: Some(vec!["sleep".into(), self.params.max_lifetime_secs.to_string()]),
            user: Some(format!("{}:{}", owner.uid(), owner.gid())),
            working_dir: Some(checkout.mount.clone()),
            // The image keeps its own PATH (a task image may add a conda or
            // virtualenv bin folder); without one the engine's default is
            // the local sandbox's.
            env: Some(SANDBOX_ENV.iter().filter(|(k, _)| *k != "PATH").map(|(k, v)| format!("{k}={v}")).collect()),
            labels: Some([(CONTAINER_LABEL.to_string(), "docker".to_string())].into()),
            host_config: Some(HostConfig {
                mounts: Some(vec![Mount {
                    target: Some(checkout.mount.clone()),
                    source: Some(checkout.workspace.display().to_string()),
                    typ: Some(MountType::BIND),
                    read_only: Some(false),
                    ..Default::default()
                }]),
                network_mode: Some("none".into()),
                readonly_rootfs: Some(true),
                tmpfs: Some([("/tmp".to_string(), tmp)].into()),
                memory: Some(memory),
                memory_swap: Some(memory),
                pids_limit: Some(i64::try_from(self.params.pids_limit).unwrap_or(i64::MAX)),
                cap_drop: Some(vec!["ALL".into()]),
                security_opt: Some(vec!["no-new-privileges".into()]),
                init: Some(true),
                auto_remove: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        })
    }

    /// A client of `endpoint`, made on first use.
    fn client(&mut self, endpoint: &str) -> Result<Docker, String> {
        if let Some(docker) = self.clients.get(endpoint) {
            return Ok(docker.clone());
        }
        let docker = block_on(connect(endpoint)).map_err(|e| e.to_string())?.map_err(|e| e.to_string())?;
        self.clients.insert(endpoint.to_string(), docker.clone());
        Ok(docker)
    }
}

impl Environment for DockerEnv {
    fn tools(&self) -> Vec<ToolSpec> {
        r2e_tools()
    }

    fn reset(&mut self, task: &Task) -> Result<(), EnvError> {
        self.episode = None;
        let mount = self.params.mount_at.clone().unwrap_or_else(|| task.mount_at.clone());
        let checkout = Checkout::new(task, mount, self.params.sandbox_uid, "entropo-docker-", self.params.work_dir.as_deref())?;
        let image = task.image.clone().unwrap_or_else(|| self.params.image.clone());
        let spec = self.spec(&image, &checkout)?;
        let mut failures = Vec::new();
        for endpoint in by_load(&self.endpoints) {
            let started = self.client(&endpoint).and_then(|docker| {
                let lease = Lease::take(&endpoint);
                match block_on(Container::start(&docker, &spec)).map_err(|e| e.to_string())? {
                    Ok(name) => Ok((docker, name, lease)),
                    Err(e) if status(&e) == Some(404) => Err(format!(
                        "image {image} not found ({e}); build the base image with scripts/docker.sh image"
                    )),
                    Err(e) => Err(e.to_string()),
                }
            });
            match started {
                Ok((docker, name, lease)) => {
                    let container = Container { docker, endpoint, spec, name: Some(name), _lease: lease };
                    self.episode = Some(Episode { checkout, container });
                    return Ok(());
                }
                Err(e) => {
                    self.clients.remove(&endpoint);
                    failures.push(format!("{endpoint}: {e}"));
                }
            }
        }
        Err(EnvError::Task {
            task: task.instance_id.clone(),
            reason: format!(
                "no Docker engine could start its container ({}). Start one with `export DOCKER_HOST=$(scripts/docker.sh start)`",
                failures.join("; ")
            ),
        })
    }

    fn step(&mut self, call: &ToolCall) -> Result<StepResult, EnvError> {
        let limits = self.limits();
        let timeout = Duration::from_secs(self.params.step_timeout_secs);
        let Episode { checkout, container } = self.episode()?;
        checkout.step(call, &limits, |cmd| {
            bash::observation_with(cmd, timeout.as_secs(), |cmd| {
                container.run(&checkout.mount, cmd, timeout, BASH_OUTPUT_BYTES)
            })
        })
    }

    fn patch(&mut self) -> Result<String, EnvError> {
        self.episode()?.checkout.patch()
    }

    fn run_tests(&mut self) -> Result<TestReport, EnvError> {
        let timeout = Duration::from_secs(self.params.test_timeout_secs);
        let Episode { checkout, container } = self.episode()?;
        checkout.run_tests(timeout.as_secs(), |command| container.run(&checkout.mount, command, timeout, TEST_OUTPUT_BYTES))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_parse() {
        assert_eq!(parse_endpoint("unix:///run/x/docker.sock"), Some(Endpoint::Unix("/run/x/docker.sock")));
        assert_eq!(parse_endpoint("tcp://10.0.0.2:2375"), Some(Endpoint::Tcp("10.0.0.2:2375")));
        assert_eq!(parse_endpoint("unix://relative.sock"), None);
        assert_eq!(parse_endpoint("tcp://host"), None);
        assert_eq!(parse_endpoint("ssh://host"), None);
    }

    #[test]
    fn params_validate() {
        assert!(DockerParams::default().validate().is_ok());
        let p = DockerParams { endpoints: vec!["docker.sock".into()], ..DockerParams::default() };
        assert!(p.validate().unwrap_err().to_string().contains("endpoints"));
        let p = DockerParams { pids_limit: 2, ..DockerParams::default() };
        assert!(p.validate().unwrap_err().to_string().contains("pids_limit"));
        let p = DockerParams { sandbox_uid: 0, ..DockerParams::default() };
        assert!(p.validate().is_err());
        let p = DockerParams { mount_at: Some("/".into()), ..DockerParams::default() };
        assert!(p.validate().is_err());
    }

    #[test]
    fn least_busy_first_and_ties_in_turn() {
        let endpoints = vec!["unix:///test/a.sock".to_string(), "unix:///test/b.sock".to_string()];
        let _busy = Lease::take(&endpoints[0]);
        assert_eq!(by_load(&endpoints)[0], endpoints[1]);
        let _also = Lease::take(&endpoints[1]);
        let firsts: std::collections::BTreeSet<String> = (0..2).map(|_| by_load(&endpoints)[0].clone()).collect();
        assert_eq!(firsts.len(), 2, "ties alternate");
    }
}
