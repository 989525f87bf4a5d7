// Small generated datasets for the data tests: IDX (raw or .gz), CIFAR binary, image folders,
// configs that use them, and the cached CIFAR-10 forms of the shared data.
#pragma once
#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace cnnkit::test {

// Deterministic pixel of image i at (c, y, x).
std::uint8_t fixture_pixel(std::int64_t i, std::int64_t c, std::int64_t y, std::int64_t x);

// IDX file bytes.
std::string idx_images_bytes(std::int64_t n, std::int64_t h, std::int64_t w);
std::string idx_labels_bytes(const std::vector<int>& labels);
void write_file(const std::filesystem::path& path, const std::string& bytes, bool gz = false);

// The four MNIST files (labels i % 10) in `dir`, gzip-compressed or raw.
void write_mnist(const std::filesystem::path& dir, std::int64_t train, std::int64_t test, bool gz = true,
                 std::int64_t h = 28, std::int64_t w = 28);

// CIFAR-10 binary: five training files of `per_file` records and a test file, labels i % 10,
// pixel (c, y, x) of record i = fixture_pixel(i, c, y, x) (i counted per split).
std::string cifar_record(std::int64_t i, int label, int label_bytes = 1);
void write_cifar10(const std::filesystem::path& dir, std::int64_t per_file, std::int64_t test, bool meta = true);

// DIR/<class>/NNN.<ext> images of h x w with `channels` (1 or 3), pixel values from fixture_pixel.
void write_image_folder(const std::filesystem::path& dir, const std::vector<std::string>& classes,
                        std::int64_t per_class, std::int64_t h, std::int64_t w, int channels = 3,
                        const std::string& ext = "png");

// A config file with the given input and "data" section (JSON text) and a one-dense-layer model.
std::string write_config(const std::filesystem::path& dir, const std::string& data_json, int channels, int h,
                         int w, int classes = 10, const std::string& name = "fixture.json");

// The shared CIFAR-10 as {jpg tree, binary batches}, produced once per machine with
// scripts/get-data.sh --mirror into a cache; nullopt when ../shared/data is absent.
struct Cifar10Cache {
  std::filesystem::path jpg, bin;
};
std::optional<Cifar10Cache> cifar10_cache();

// The message of the DataError `f` throws, or "(no DataError)".
std::string message_of(const std::function<void()>& f);

}  // namespace cnnkit::test
