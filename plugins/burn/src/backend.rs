//! Picking a burn backend at run time from what the build enabled.

use crate::attention::TrainBackend;
pub use entropo_core::training::Backend as BackendKind;

use crate::error::ModelError;
use crate::model::AttentionBlocks;

/// Whether this build includes `kind`.
///
/// ```
/// use entropo_burn::backend::{is_built, BackendKind};
/// assert!(is_built(BackendKind::Ndarray));
/// ```
pub fn is_built(kind: BackendKind) -> bool {
    match kind {
        BackendKind::Ndarray => cfg!(feature = "ndarray"),
        BackendKind::Tch => cfg!(feature = "tch"),
        BackendKind::Cuda => cfg!(feature = "cuda"),
    }
}

/// Whether `kind` computes on a GPU here: `cuda` always, `tch` when a CUDA
/// device is present, `ndarray` never.
///
/// ```
/// use entropo_burn::backend::{runs_on_gpu, BackendKind};
/// assert!(!runs_on_gpu(BackendKind::Ndarray));
/// assert!(runs_on_gpu(BackendKind::Cuda));
/// ```
pub fn runs_on_gpu(kind: BackendKind) -> bool {
    match kind {
        BackendKind::Ndarray => false,
        BackendKind::Tch => tch_cuda_available(),
        BackendKind::Cuda => true,
    }
}

/// How models on `kind` split attention into blocks: 256 queries at a time
/// on the CPU, where skipping the masked half of long causal sequences
/// pays; on a GPU, one block while its scores fit 2048 × 2048 elements
/// per head (fewer, larger matmuls), smaller blocks beyond so that long
/// sequences fit in memory (BENCHMARKS.md).
///
/// ```
/// use entropo_burn::backend::{attention_blocks, BackendKind};
/// use entropo_burn::model::AttentionBlocks;
/// assert_eq!(attention_blocks(BackendKind::Ndarray), AttentionBlocks::Queries(256));
/// assert_eq!(attention_blocks(BackendKind::Cuda).queries_per_block(2048), 2048);
/// ```
pub fn attention_blocks(kind: BackendKind) -> AttentionBlocks {
    if runs_on_gpu(kind) { AttentionBlocks::Scores(2048 * 2048) } else { AttentionBlocks::default() }
}

/// Work that runs on any autodiff backend; [`dispatch`] picks which.
pub trait BackendJob {
    /// What the job returns.
    type Output;
    /// Runs on backend `B` and `device`.
    fn run<B: TrainBackend>(self, device: B::Device) -> Result<Self::Output, ModelError>;
}

/// Runs `job` on the backend `kind`, or says which cargo feature is missing.
pub fn dispatch<J: BackendJob>(kind: BackendKind, job: J) -> Result<J::Output, ModelError> {
    match kind {
        #[cfg(feature = "ndarray")]
        BackendKind::Ndarray => job.run::<burn::backend::Autodiff<burn::backend::NdArray<f32>>>(Default::default()),
        #[cfg(feature = "tch")]
        BackendKind::Tch => {
            let device = if tch_cuda_available() {
                burn::backend::libtorch::LibTorchDevice::Cuda(0)
            } else {
                burn::backend::libtorch::LibTorchDevice::Cpu
            };
            job.run::<burn::backend::Autodiff<burn::backend::LibTorch<f32>>>(device)
        }
        #[cfg(feature = "cuda")]
        BackendKind::Cuda => job.run::<burn::backend::Autodiff<burn::backend::Cuda<f32, i32>>>(Default::default()),
        #[allow(unreachable_patterns)]
        other => Err(ModelError::Invalid(format!(
            "backend {:?} is not in this build: rebuild with `--features {}`",
            other.name(),
            other.name()
        ))),
    }
}

fn tch_cuda_available() -> bool {
    std::path::Path::new("/dev/nvidia0").exists()
        && std::env::var_os("CUDA_VISIBLE_DEVICES").is_none_or(|v| !v.is_empty())
}
