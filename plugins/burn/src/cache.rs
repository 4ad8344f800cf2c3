//! The key/value cache of one sequence being sampled: per layer, the keys
//! and values of every position computed so far.
//!
//! On backends whose tensors live on the device (`cuda`, `tch`) a layer's
//! cache is a pair of tensors, extended by concatenation. On `ndarray`
//! ([`AttentionBackend::keeps_kv_on_host`]) it is a pair of growable host
//! buffers: new positions are copied in once, capacity doubles as needed,
//! and attention reads the rows where they lie, each key/value head shared
//! by its group of query heads; a decoding step then costs its new tokens
//! rather than a copy of everything cached.

use burn::tensor::backend::Backend;
use burn::tensor::{Tensor, TensorData};

use crate::attention::{AttentionBackend, Causal};
use crate::model::host_values;

/// Keys and values of the positions seen so far, per layer, for sampling.
///
/// ```
/// use burn::backend::NdArray;
/// use entropo_burn::model::{Decoder, KvCache};
/// let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smollm2");
/// let model = Decoder::<NdArray>::load(&dir, &Default::default()).unwrap();
/// let mut cache = KvCache::new(model.config.num_hidden_layers);
/// let all = model.forward(model.ids(&[vec![1, 2, 3, 4]]).unwrap(), None, None);
/// model.forward(model.ids(&[vec![1, 2, 3]]).unwrap(), None, Some(&mut cache));
/// let last = model.forward(model.ids(&[vec![4]]).unwrap(), None, Some(&mut cache));
/// assert_eq!(cache.len(), 4);
/// assert!(last.sub(all.narrow(1, 3, 1)).abs().max().into_scalar() < 1e-5);
/// // The first three positions alone, as a prefix cache hands them out.
/// assert_eq!(cache.truncated(3).len(), 3);
/// ```
#[derive(Debug, Clone)]
pub struct KvCache<B: Backend> {
    layers: Vec<Layer<B>>,
    len: usize,
}

#[derive(Debug, Clone)]
enum Layer<B: Backend> {
    Empty,
    /// `[batch, kv_heads, len, head_dim]` each.
    Tensors(Tensor<B, 4>, Tensor<B, 4>),
    Host(HostKv),
}

impl<B: Backend> KvCache<B> {
    /// An empty cache for `layers` blocks.
    pub fn new(layers: usize) -> Self {
        KvCache { layers: (0..layers).map(|_| Layer::Empty).collect(), len: 0 }
    }

    /// Number of positions cached.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is cached yet.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The first `len` positions (at most [`KvCache::len`]) as a cache of
    /// their own, holding no more memory than they need.
    pub fn truncated(&self, len: usize) -> KvCache<B> {
        let len = len.min(self.len);
        let layers = self
            .layers
            .iter()
            .map(|l| match l {
                _ if len == 0 => Layer::Empty,
                Layer::Empty => Layer::Empty,
                Layer::Tensors(k, v) => Layer::Tensors(k.clone().narrow(2, 0, len), v.clone().narrow(2, 0, len)),
                Layer::Host(h) => Layer::Host(h.truncated(len)),
            })
            .collect();
        KvCache { layers, len }
    }

    /// Bytes the keys and values hold, reserved capacity included (4 per value).
    pub fn bytes(&self) -> usize {
        let numel = |t: &Tensor<B, 4>| t.dims().iter().product::<usize>();
        self.layers
            .iter()
            .map(|l| match l {
                Layer::Empty => 0,
                Layer::Tensors(k, v) => 4 * (numel(k) + numel(v)),
                Layer::Host(h) => h.bytes(),
            })
            .sum()
    }

    /// Counts `n` more positions, once every layer holds them.
    pub(crate) fn advance(&mut self, n: usize) {
        self.len += n;
    }

    /// Appends layer `layer`'s new keys and values (tensors) and returns all of them.
    pub(crate) fn append(&mut self, layer: usize, k: Tensor<B, 4>, v: Tensor<B, 4>) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let (k, v) = match std::mem::replace(&mut self.layers[layer], Layer::Empty) {
            Layer::Tensors(pk, pv) => (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2)),
            Layer::Empty => (k, v),
            Layer::Host(h) => {
                let device = k.device();
                let (pk, pv) = h.tensors::<B>(&device);
                (Tensor::cat(vec![pk, k], 2), Tensor::cat(vec![pv, v], 2))
            }
        };
        self.layers[layer] = Layer::Tensors(k.clone(), v.clone());
        (k, v)
    }
}

#[cfg(feature = "ndarray")]
impl<B: AttentionBackend> KvCache<B> {
    /// Appends layer `layer`'s new keys and values `[1, kv_heads, n, d]` to
    /// its host buffers and attends queries `[1, heads, n, d]` to every
    /// cached position with the host kernel, grouped heads sharing their
    /// key/value head.
    pub(crate) fn attend_on_host(&mut self, layer: usize, q: Tensor<B, 4>, k: Tensor<B, 4>, v: Tensor<B, 4>, causal: Causal) -> Tensor<B, 4> {
        let [_, heads, n, d] = q.dims();
        let kv_heads = k.dims()[1];
        let device = q.device();
        let host = match &mut self.layers[layer] {
            Layer::Host(h) => h,
            slot => {
                let mut h = HostKv::new(kv_heads, d);
                if let Layer::Tensors(pk, pv) = std::mem::replace(slot, Layer::Empty) {
                    h.append(&host_values(pk), &host_values(pv), self.len);
                }
                *slot = Layer::Host(h);
                let Layer::Host(h) = slot else { unreachable!("just set") };
                h
            }
        };
        host.append(&host_values(k), &host_values(v), n);
        let group = heads / kv_heads;
        let dims = crate::attention::host::Dims { heads, len: n, head_dim: d };
        let (out, _) = crate::attention::host::forward_with(&host_values(q), |h| host.head(h / group), dims, causal);
        Tensor::from_data(TensorData::new(out, [1, heads, n, d]), &device)
    }
}

/// One sequence's part of a ragged batch ([`crate::model::Decoder::hidden_ragged`]):
/// new tokens that continue its cache.
#[derive(Debug)]
pub struct Segment<'a, B: Backend> {
    /// The new tokens (at least one).
    pub tokens: &'a [u32],
    /// The sequence's cache, extended by the step.
    pub cache: &'a mut KvCache<B>,
}

/// One layer's keys and values in host memory: `[kv_heads][capacity][head_dim]`
/// each, the first `len` rows of each head filled.
#[derive(Debug, Clone)]
struct HostKv {
    heads: usize,
    d: usize,
    len: usize,
    cap: usize,
    k: Vec<f32>,
    v: Vec<f32>,
}

impl HostKv {
    fn new(heads: usize, d: usize) -> Self {
        HostKv { heads, d, len: 0, cap: 0, k: Vec::new(), v: Vec::new() }
    }

    /// Appends `n` positions given as `[heads][n][d]`.
    fn append(&mut self, k: &[f32], v: &[f32], n: usize) {
        let (heads, d) = (self.heads, self.d);
        if self.len + n > self.cap {
            self.reserve((self.len + n).max(2 * self.cap).max(16));
        }
        for h in 0..heads {
            let at = (h * self.cap + self.len) * d;
            self.k[at..at + n * d].copy_from_slice(&k[h * n * d..][..n * d]);
            self.v[at..at + n * d].copy_from_slice(&v[h * n * d..][..n * d]);
        }
        self.len += n;
    }

    /// Moves to a capacity of `cap` positions per head.
    fn reserve(&mut self, cap: usize) {
        let (heads, d, len) = (self.heads, self.d, self.len);
        let relayout = |old: &[f32]| {
            let mut new = vec![0.0; heads * cap * d];
            for h in 0..heads {
                new[h * cap * d..][..len * d].copy_from_slice(&old[h * self.cap * d..][..len * d]);
            }
            new
        };
        self.k = relayout(&self.k);
        self.v = relayout(&self.v);
        self.cap = cap;
    }

    /// Head `h`'s keys and values, `[len, d]` row-major each.
    fn head(&self, h: usize) -> (&[f32], &[f32]) {
        let at = h * self.cap * self.d;
        (&self.k[at..][..self.len * self.d], &self.v[at..][..self.len * self.d])
    }

    /// The first `len` positions, at exactly that capacity.
    fn truncated(&self, len: usize) -> HostKv {
        let mut t = HostKv::new(self.heads, self.d);
        t.reserve(len);
        t.len = len;
        for h in 0..self.heads {
            let (k, v) = self.head(h);
            t.k[h * len * self.d..][..len * self.d].copy_from_slice(&k[..len * self.d]);
            t.v[h * len * self.d..][..len * self.d].copy_from_slice(&v[..len * self.d]);
        }
        t
    }

    fn bytes(&self) -> usize {
        4 * (self.k.len() + self.v.len())
    }

    /// The filled rows as `[1, heads, len, d]` tensors.
    fn tensors<B: Backend>(&self, device: &B::Device) -> (Tensor<B, 4>, Tensor<B, 4>) {
        let t = self.truncated(self.len);
        let shape = [1, self.heads, self.len, self.d];
        (Tensor::from_data(TensorData::new(t.k, shape), device), Tensor::from_data(TensorData::new(t.v, shape), device))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_buffers_grow_in_place_and_truncate_to_what_is_filled() {
        let mut h = HostKv::new(2, 1);
        // heads × positions × d: head 0 gets 1, 2; head 1 gets 10, 20.
        h.append(&[1.0, 2.0, 10.0, 20.0], &[-1.0, -2.0, -10.0, -20.0], 2);
        for i in 0..20 {
            h.append(&[100.0 + i as f32, 200.0 + i as f32], &[0.0, 0.0], 1);
        }
        assert_eq!(h.len, 22);
        assert!(h.cap >= 22);
        assert_eq!(&h.head(0).0[..3], [1.0, 2.0, 100.0]);
        assert_eq!(&h.head(1).0[..3], [10.0, 20.0, 200.0]);
        assert_eq!(h.head(1).1[1], -20.0);
        let t = h.truncated(3);
        assert_eq!((t.len, t.cap, t.bytes()), (3, 3, 4 * 2 * 2 * 3));
        assert_eq!(t.head(1).0, [10.0, 20.0, 200.0]);
    }
}
