// How gradients are grouped into flat buckets for all-reduce (the assignment PyTorch's DDP
// uses after its first iteration, computed once from the registration order instead):
// parameters are taken in REVERSE order of registration, which approximates the order in which
// backward produces their gradients; they fill one bucket per (dtype, device) until it holds at
// least `first_bucket_bytes` (the first bucket, small, so that communication starts early in
// backward), then buckets of at least `bucket_bytes`. A bucket closes as soon as it reaches its
// limit, so one large tensor makes a bucket of its own. Buckets are ordered by their first
// parameter in that reverse order, i.e. in the order they are expected to fill.
#pragma once
#include <torch/types.h>

#include <cstdint>
#include <vector>

namespace cnnkit::dist {

struct BucketOptions {
  int64_t first_bucket_bytes = int64_t{1} << 20;  // 1 MiB, DDP's _DEFAULT_FIRST_BUCKET_BYTES
  int64_t bucket_bytes = int64_t{25} << 20;       // 25 MiB, DDP's bucket_cap_mb default
};

struct Bucket {
  std::vector<size_t> params;  // indices into the parameter list, in filling order
  int64_t numel = 0;           // gradient elements (without the usage flags)
  torch::Dtype dtype = torch::kFloat;
  torch::Device device = torch::kCPU;
};

// Throws UsageError for non-positive sizes.
std::vector<Bucket> plan_buckets(const std::vector<torch::Tensor>& params, const BucketOptions& options = {});

}  // namespace cnnkit::dist
