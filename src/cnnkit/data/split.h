// Subsets of an image set that keep the class balance: the validation split carved from the
// training set, and the `limit_*` subsets for quick runs. Both are stratified: each class
// contributes in proportion to its size (to within one image), chosen at random with a
// fixed seed, so the same seed always picks the same images. Kept images stay in file order.
#pragma once
#include <cstdint>
#include <utility>

#include "cnnkit/data/dataset.h"

namespace cnnkit {

// Labels are class indices in 0..kMaxClasses-1 (DataError otherwise).
constexpr std::int64_t kMaxClasses = 1 << 20;

// A permutation of 0..N-1 that interleaves the classes: every prefix is (to within one image
// per class) stratified. Classes are shuffled internally with `seed`.
torch::Tensor stratified_order(const torch::Tensor& labels, std::int64_t seed);

// Rows `indices` (int64) of `set`.
ImageSet subset(const ImageSet& set, const torch::Tensor& indices);

// The first `n` of the stratified order (all of `set` when n <= 0 or n >= N).
ImageSet stratified_limit(const ImageSet& set, std::int64_t n, std::int64_t seed);

// {train, validation}: round(fraction * N) images go to validation (none when fraction is 0).
std::pair<ImageSet, ImageSet> split_validation(const ImageSet& set, double fraction, std::int64_t seed);

// Images per class (int64 counts, size num_classes).
std::vector<std::int64_t> class_counts(const ImageSet& set, std::int64_t num_classes);

}  // namespace cnnkit
