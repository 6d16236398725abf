// cudnn.sdpa's graphs (built once per plan key), device tensors and execution.
#include "backends/cuda/cudnn_sdpa/cudnn_sdpa_backend.hpp"

#include <cudnn.h>
#include <cudnn_frontend.h>

#include <limits>
#include <map>
#include <mutex>
#include <unordered_map>

#include "attnbench/registry.hpp"
#include "backends/cuda/common/backend_support.hpp"
#include "backends/cuda/common/cuda_check.hpp"
#include "backends/cuda/common/cuda_execution.hpp"
#include "backends/cuda/common/device_buffer.hpp"
#include "backends/cuda/cudnn_sdpa/cudnn_mask.hpp"
#include "backends/cuda/cudnn_sdpa/plan_key.hpp"

namespace attnbench::cuda::cudnn_sdpa {

namespace {

namespace fe = cudnn_frontend;
using TensorPtr = std::shared_ptr<fe::graph::Tensor_attributes>;

// Tensor uids of the variant packs.
enum Uid : std::int64_t {
  kQ = 1,
  kK,
  kV,
  kO,
  kStats,
  kSeqQ,
  kSeqKV,
  kDO,
  kDQ,
  kDK,
  kDV,
  // Ragged offsets, one tensor per data tensor (bound to the q- or kv-side offsets).
  kQOff = 101,
  kKOff,
  kVOff,
  kOOff,
  kDOOff,
  kDQOff,
  kDKOff,
  kDVOff,
};

cudnnHandle_t cudnn_handle() {
  thread_local struct Holder {
    cudnnHandle_t h = nullptr;
    Holder() { ATTNBENCH_CUDNN_CHECK(cudnnCreate(&h)); }
    ~Holder() { cudnnDestroy(h); }
  } holder;
  return holder.h;
}

struct BuiltGraph {
  std::shared_ptr<fe::graph::Graph> graph;
  std::int64_t workspace = 0;
  std::string error;  // non-empty: cuDNN cannot run this key
};

// Builds graph tensors in the harness's [B, S, H, D] layout as cuDNN's [B, H, S, D] dims.
class GraphBuilder {
 public:
  explicit GraphBuilder(const PlanKey& k) : k_(k), g_(std::make_shared<fe::graph::Graph>()) {
    g_->set_io_data_type(k.dtype == DType::fp16 ? fe::DataType_t::HALF : fe::DataType_t::BFLOAT16)
        .set_intermediate_data_type(fe::DataType_t::FLOAT)
        .set_compute_data_type(fe::DataType_t::FLOAT);
  }

  TensorPtr q_side(const char* name, std::int64_t uid, std::int64_t off_uid) {
    return data(name, uid, off_uid, k_.heads_q, k_.seqlen_q);
  }
  TensorPtr kv_side(const char* name, std::int64_t uid, std::int64_t off_uid) {
    return data(name, uid, off_uid, k_.heads_kv, k_.seqlen_k);
  }
  // Marks an output as a q- or kv-side tensor of the same layout.
  void q_output(const TensorPtr& t, std::int64_t uid, std::int64_t off_uid) {
    output(t, uid, off_uid, k_.heads_q, k_.seqlen_q);
  }
  void kv_output(const TensorPtr& t, std::int64_t uid, std::int64_t off_uid) {
    output(t, uid, off_uid, k_.heads_kv, k_.seqlen_k);
  }
  TensorPtr stats_input() {
    return g_->tensor(fe::graph::Tensor_attributes()
                          .set_name("Stats")
                          .set_uid(kStats)
                          .set_dim(stats_dim())
                          .set_stride(stats_stride())
                          .set_data_type(fe::DataType_t::FLOAT));
  }
  void stats_output(const TensorPtr& t) {
    t->set_output(true)
        .set_uid(kStats)
        .set_dim(stats_dim())
        .set_stride(stats_stride())
        .set_data_type(fe::DataType_t::FLOAT);
  }
  // Padding-mask sequence lengths of ragged batches (null otherwise).
  std::pair<TensorPtr, TensorPtr> seq_lens() {
    if (!k_.ragged) return {};
    return {index_tensor("seq_q", kSeqQ, k_.batch, fe::DataType_t::INT32),
            index_tensor("seq_kv", kSeqKV, k_.batch, fe::DataType_t::INT32)};
  }
  fe::graph::Graph& graph() { return *g_; }
  std::shared_ptr<fe::graph::Graph> take() { return std::move(g_); }

 private:
  std::vector<std::int64_t> dim(std::int64_t heads, std::int64_t seq) const {
    return {k_.batch, heads, seq, k_.head_dim};
  }
  std::vector<std::int64_t> stride(std::int64_t heads, std::int64_t seq) const {
    return {seq * heads * k_.head_dim, k_.head_dim, heads * k_.head_dim, 1};
  }
  std::vector<std::int64_t> stats_dim() const { return {k_.batch, k_.heads_q, k_.seqlen_q, 1}; }
  std::vector<std::int64_t> stats_stride() const { return {k_.heads_q * k_.seqlen_q, k_.seqlen_q, 1, 1}; }
  TensorPtr index_tensor(const char* name, std::int64_t uid, std::int64_t n, fe::DataType_t type) {
    return g_->tensor(fe::graph::Tensor_attributes()
                          .set_name(name)
                          .set_uid(uid)
                          .set_dim({n, 1, 1, 1})
                          .set_stride({1, 1, 1, 1})
                          .set_data_type(type));
  }
  TensorPtr offsets(std::int64_t off_uid) {
    return index_tensor("ragged_offset", off_uid, k_.batch + 1, fe::DataType_t::INT64);
  }
  TensorPtr data(const char* name, std::int64_t uid, std::int64_t off_uid, std::int64_t heads,
                 std::int64_t seq) {
    auto t = g_->tensor(fe::graph::Tensor_attributes()
                            .set_name(name)
                            .set_uid(uid)
                            .set_dim(dim(heads, seq))
                            .set_stride(stride(heads, seq)));
    if (k_.ragged) t->set_ragged_offset(offsets(off_uid));
    return t;
  }
  void output(const TensorPtr& t, std::int64_t uid, std::int64_t off_uid, std::int64_t heads,
              std::int64_t seq) {
    t->set_output(true).set_uid(uid).set_dim(dim(heads, seq)).set_stride(stride(heads, seq));
    if (k_.ragged) t->set_ragged_offset(offsets(off_uid));
  }

  PlanKey k_;
  std::shared_ptr<fe::graph::Graph> g_;
};

// The mask's diagonal band on either attribute type (forward or backward).
template <class Attributes>
void set_band(Attributes& a, const PlanKey& k) {
  if (k.left_bound < 0 && k.right_bound < 0) return;
  a.set_diagonal_alignment(k.bottom_right ? fe::DiagonalAlignment_t::BOTTOM_RIGHT
                                          : fe::DiagonalAlignment_t::TOP_LEFT);
  if (k.left_bound >= 0) a.set_diagonal_band_left_bound(static_cast<int>(k.left_bound));
  if (k.right_bound >= 0) a.set_diagonal_band_right_bound(static_cast<int>(k.right_bound));
}

std::shared_ptr<fe::graph::Graph> make_forward_graph(const PlanKey& k) {
  GraphBuilder b(k);
  auto q = b.q_side("Q", kQ, kQOff);
  auto kk = b.kv_side("K", kK, kKOff);
  auto v = b.kv_side("V", kV, kVOff);
  auto opts =
      fe::graph::SDPA_attributes().set_name("sdpa_forward").set_generate_stats(true).set_attn_scale(k.scale);
  set_band(opts, k);
  if (auto [sq, skv] = b.seq_lens(); sq) opts.set_padding_mask(true).set_seq_len_q(sq).set_seq_len_kv(skv);
  auto [o, stats] = b.graph().sdpa(q, kk, v, opts);
  b.q_output(o, kO, kOOff);
  b.stats_output(stats);
  return b.take();
}

std::shared_ptr<fe::graph::Graph> make_backward_graph(const PlanKey& k) {
  GraphBuilder b(k);
  auto q = b.q_side("Q", kQ, kQOff);
  auto kk = b.kv_side("K", kK, kKOff);
  auto v = b.kv_side("V", kV, kVOff);
  auto o = b.q_side("O", kO, kOOff);
  auto dout = b.q_side("dO", kDO, kDOOff);
  auto stats = b.stats_input();
  auto opts = fe::graph::SDPA_backward_attributes().set_name("sdpa_backward").set_attn_scale(k.scale);
  set_band(opts, k);
  if (auto [sq, skv] = b.seq_lens(); sq) opts.set_padding_mask(true).set_seq_len_q(sq).set_seq_len_kv(skv);
  auto [dq, dk, dv] = b.graph().sdpa_backward(q, kk, v, o, dout, stats, opts);
  b.q_output(dq, kDQ, kDQOff);
  b.kv_output(dk, kDK, kDKOff);
  b.kv_output(dv, kDV, kDVOff);
  return b.take();
}

std::string build(fe::graph::Graph& g, std::int64_t& workspace) {
  auto fail = [](const char* step, fe::error_t e) { return std::string(step) + ": " + e.get_message(); };
  if (auto e = g.validate(); e.is_bad()) return fail("validate", e);
  if (auto e = g.build_operation_graph(cudnn_handle()); e.is_bad()) return fail("build_operation_graph", e);
  if (auto e = g.create_execution_plans({fe::HeurMode_t::A, fe::HeurMode_t::FALLBACK}); e.is_bad())
    return fail("create_execution_plans", e);
  if (auto e = g.check_support(); e.is_bad()) return fail("check_support", e);
  if (auto e = g.build_plans(); e.is_bad()) return fail("build_plans", e);
  if (auto e = g.get_workspace_size(workspace); e.is_bad()) return fail("get_workspace_size", e);
  return {};
}

// Built graphs for the process, by key; a failed build is cached with its reason.
std::shared_ptr<const BuiltGraph> graph_for(const PlanKey& key) {
  static std::mutex mutex;
  static std::map<PlanKey, std::shared_ptr<const BuiltGraph>> cache;
  std::lock_guard<std::mutex> lock(mutex);
  if (auto it = cache.find(key); it != cache.end()) return it->second;
  auto built = std::make_shared<BuiltGraph>();
  try {
    built->graph = key.backward ? make_backward_graph(key) : make_forward_graph(key);
    built->error = build(*built->graph, built->workspace);
  } catch (const std::exception& e) {
    built->error = e.what();
  }
  if (!built->error.empty()) built->graph.reset();
  cache.emplace(key, built);
  return built;
}

class SdpaExecution final : public CudaExecution {
 public:
  SdpaExecution(const Problem& p, const Inputs& in, Resources& res, CudnnMaskArgs args)
      : CudaExecution(l2_flush_option(p)), p_(p), args_(std::move(args)) {
    MemoryTracker* mt = res.device;
    const Shape& s = p.shape;
    const bool bwd = pass_has_backward(p.pass);
    fwd_graph_ = checked(cudnn_sdpa::make_plan_key(p, args_, false));
    if (bwd) bwd_graph_ = checked(cudnn_sdpa::make_plan_key(p, args_, true));

    const auto qn = static_cast<std::size_t>(s.q_elems()), kvn = static_cast<std::size_t>(s.kv_elems());
    q_ = DeviceTensor(p.dtype, qn, mt);
    k_ = DeviceTensor(p.dtype, kvn, mt);
    v_ = DeviceTensor(p.dtype, kvn, mt);
    o_ = DeviceTensor(p.dtype, qn, mt);
    stats_ = DeviceBuffer<float>(
        static_cast<std::size_t>(cudnn_sdpa::stats_elems(args_, s.batch, s.heads_q, s.seqlen_q)), mt);
    q_.upload(in.q);
    k_.upload(in.k);
    v_.upload(in.v);
    if (bwd) {
      do_ = DeviceTensor(p.dtype, qn, mt);
      dq_ = DeviceTensor(p.dtype, qn, mt);
      dk_ = DeviceTensor(p.dtype, kvn, mt);
      dv_ = DeviceTensor(p.dtype, kvn, mt);
      do_.upload(in.dout);
    }
    if (args_.ragged()) {
      q_off_ =
          upload_vector(cudnn_sdpa::ragged_offsets(args_, s.batch, s.seqlen_q, s.heads_q, s.head_dim), mt);
      kv_off_ =
          upload_vector(cudnn_sdpa::ragged_offsets(args_, s.batch, s.seqlen_k, s.heads_kv, s.head_dim), mt);
      seq_lens_ = upload_vector(cudnn_sdpa::ragged_seq_lens(args_, s.batch), mt);
      // Rows past a segment's end are never written: zero them once so that outputs are defined.
      o_.zero(stream());
      if (bwd) {
        dq_.zero(stream());
        dk_.zero(stream());
        dv_.zero(stream());
      }
    }
    std::int64_t ws = fwd_graph_->workspace;
    if (bwd) ws = std::max(ws, bwd_graph_->workspace);
    workspace_ = DeviceBuffer<unsigned char>(static_cast<std::size_t>(std::max<std::int64_t>(ws, 1)), mt);
    fill_packs();
    // A backward-only pass needs the forward's O and statistics: computed here, untimed.
    if (!pass_has_forward(p.pass)) {
      forward();
      synchronize();
    }
  }

  void run() override {
    if (pass_has_forward(p_.pass)) forward();
    if (pass_has_backward(p_.pass)) backward();
  }

  void fetch_outputs(Outputs& out) override {
    synchronize();
    const Shape& s = p_.shape;
    if (pass_has_forward(p_.pass)) {
      out.o = o_.download();
      out.lse = cudnn_sdpa::stats_to_lse(args_, s.batch, s.heads_q, s.seqlen_q, download(stats_));
    }
    if (pass_has_backward(p_.pass)) {
      out.dq = dq_.download();
      out.dk = dk_.download();
      out.dv = dv_.download();
    }
  }

  std::vector<Metric> metrics() override {
    Metric segments;
    segments.name = "cudnn_batch_entries";
    segments.value = static_cast<double>(cudnn_sdpa::cudnn_batch(args_, p_.shape.batch));
    return {segments};
  }

 private:
  static std::shared_ptr<const BuiltGraph> checked(const PlanKey& key) {
    auto g = graph_for(key);
    if (!g->error.empty()) throw std::runtime_error("cudnn.sdpa: " + key.to_string() + ": " + g->error);
    return g;
  }

  void fill_packs() {
    fwd_pack_ = {{kQ, q_.data()}, {kK, k_.data()}, {kV, v_.data()}, {kO, o_.data()}, {kStats, stats_.data()}};
    if (pass_has_backward(p_.pass)) {
      bwd_pack_ = {{kQ, q_.data()},   {kK, k_.data()},   {kV, v_.data()},
                   {kO, o_.data()},   {kDO, do_.data()}, {kStats, stats_.data()},
                   {kDQ, dq_.data()}, {kDK, dk_.data()}, {kDV, dv_.data()}};
    }
    if (!args_.ragged()) return;
    for (auto* pack : {&fwd_pack_, &bwd_pack_}) {
      if (pack->empty()) continue;
      (*pack)[kSeqQ] = seq_lens_.data();
      (*pack)[kSeqKV] = seq_lens_.data();
      for (std::int64_t uid : {kQOff, kOOff, kDOOff, kDQOff}) (*pack)[uid] = q_off_.data();
      for (std::int64_t uid : {kKOff, kVOff, kDKOff, kDVOff}) (*pack)[uid] = kv_off_.data();
    }
    // Each graph only declares the uids it uses: drop the others.
    for (std::int64_t uid : {kDOOff, kDQOff, kDKOff, kDVOff}) fwd_pack_.erase(uid);
  }

  void execute(const BuiltGraph& g, std::unordered_map<std::int64_t, void*>& pack) {
    cudnnHandle_t h = cudnn_handle();
    ATTNBENCH_CUDNN_CHECK(cudnnSetStream(h, stream()));
    if (auto e = g.graph->execute(h, pack, workspace_.data()); e.is_bad()) {
      throw std::runtime_error("cudnn.sdpa: execute: " + e.get_message());
    }
  }
  void forward() { execute(*fwd_graph_, fwd_pack_); }
  void backward() { execute(*bwd_graph_, bwd_pack_); }

  Problem p_;
  CudnnMaskArgs args_;
  std::shared_ptr<const BuiltGraph> fwd_graph_, bwd_graph_;
  DeviceTensor q_, k_, v_, o_, do_, dq_, dk_, dv_;
  DeviceBuffer<float> stats_;
  DeviceBuffer<std::int64_t> q_off_, kv_off_;
  DeviceBuffer<std::int32_t> seq_lens_;
  DeviceBuffer<unsigned char> workspace_;
  std::unordered_map<std::int64_t, void*> fwd_pack_, bwd_pack_;
};

}  // namespace

BackendInfo CudnnSdpaBackend::info() const {
  BackendInfo i;
  i.name = "cudnn.sdpa";
  i.device = Device::cuda;
  i.description = "cuDNN fused flash attention (frontend graph API): full, causal, windows, documents";
  i.dtypes = {DType::bf16, DType::fp16};
  i.head_dim_multiple = 8;
  i.masks = {"full", "causal", "sliding_window", "causal_sliding_window", "full_document", "causal_document"};
  return i;
}

Support CudnnSdpaBackend::supports(const Problem& p) const {
  if (Support s = check_cuda_support(info(), p); !s.ok) return s;
  const Shape& s = p.shape;
  if (s.head_dim > 256) return Support::no("cudnn.sdpa: head_dim above 256 is not supported by cuDNN SDPA");
  const cudnn_sdpa::CudnnMaskMapping m = cudnn_sdpa::map_mask(*p.mask);
  if (!m.support.ok) return m.support;
  if (s.seqlen_q > std::numeric_limits<std::int32_t>::max()) {
    return Support::no("cudnn.sdpa: seqlen_q must be below 2^31");
  }
  // Build (or find) the plans now: a graph cuDNN rejects is `unsupported` with its message.
  for (bool backward : {false, true}) {
    if (backward && !pass_has_backward(p.pass)) continue;
    const PlanKey key = cudnn_sdpa::make_plan_key(p, m.args, backward);
    auto g = graph_for(key);
    if (!g->error.empty())
      return Support::no("cudnn.sdpa: cuDNN rejects " + key.to_string() + ": " + g->error);
  }
  return Support::yes();
}

std::unique_ptr<Execution> CudnnSdpaBackend::prepare(const Problem& p, const Inputs& in, Resources& res) {
  cudnn_sdpa::CudnnMaskMapping m = cudnn_sdpa::map_mask(*p.mask);
  if (!m.support.ok) throw std::invalid_argument(m.support.reason);
  return std::make_unique<SdpaExecution>(p, in, res, std::move(m.args));
}

ATTNBENCH_REGISTER_BACKEND(CudnnSdpaBackend);

}  // namespace attnbench::cuda::cudnn_sdpa
