//! Picking a burn backend at run time from what the build enabled.

use burn::tensor::backend::AutodiffBackend;
pub use entropo_core::training::Backend as BackendKind;

use crate::error::ModelError;

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

/// Work that runs on any autodiff backend; [`dispatch`] picks which.
pub trait BackendJob {
    /// What the job returns.
    type Output;
    /// Runs on backend `B` and `device`.
    fn run<B: AutodiffBackend>(self, device: B::Device) -> Result<Self::Output, ModelError>;
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

#[cfg(feature = "tch")]
fn tch_cuda_available() -> bool {
    std::path::Path::new("/dev/nvidia0").exists()
        && std::env::var_os("CUDA_VISIBLE_DEVICES").is_none_or(|v| !v.is_empty())
}
