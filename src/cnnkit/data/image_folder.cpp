#include "cnnkit/data/image_folder.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cstring>
#include <filesystem>
#include <thread>

#include "cnnkit/core/error.h"
#include "cnnkit/core/size_math.h"
#include "cnnkit/core/strings.h"
#include "cnnkit/data/split.h"

namespace cnnkit {
namespace fs = std::filesystem;

bool is_image_file_name(const std::string& name) {
  if (name.empty() || name[0] == '.') return false;
  auto dot = name.rfind('.');
  if (dot == std::string::npos) return false;
  std::string ext = name.substr(dot + 1);
  for (auto& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return ext == "png" || ext == "jpg" || ext == "jpeg" || ext == "bmp";
}

FolderScan scan_image_folder(const std::string& dir, const std::vector<std::string>& classes) {
  std::error_code ec;
  if (!fs::exists(dir, ec)) throw DataError(dir + ": image folder not found");
  if (!fs::is_directory(dir, ec)) throw DataError(dir + ": not a folder; expected DIR/<class>/<image files>");
  FolderScan scan;
  scan.dir = dir;
  std::vector<std::string> broken;  // dangling links and link loops: skipped with a warning
  auto is_broken_link = [](const fs::directory_entry& e) {
    std::error_code s1, s2;
    return e.is_symlink(s1) && (e.status(s2).type() == fs::file_type::not_found || s2);
  };
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    const std::string name = e.path().filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code e_ec;
    if (is_broken_link(e)) broken.push_back(e.path().string());
    else if (e.is_directory(e_ec)) scan.class_names.push_back(name);
  }
  if (ec) throw DataError(dir + ": cannot list folder: " + ec.message());
  std::sort(scan.class_names.begin(), scan.class_names.end());
  if (scan.class_names.empty()) {
    throw DataError(dir + ": no class folders; expected " + dir + "/<class>/<image files>");
  }
  const std::vector<std::string>& label_names = classes.empty() ? scan.class_names : classes;
  for (const auto& name : scan.class_names) {
    auto it = std::find(label_names.begin(), label_names.end(), name);
    if (it == label_names.end()) {
      throw DataError((fs::path(dir) / name).string() + ": class '" + name +
                      "' is not among the training classes (" + join(label_names, ", ") + ")");
    }
    const std::int64_t label = it - label_names.begin();
    std::vector<std::string> files;
    for (const auto& e : fs::directory_iterator(fs::path(dir) / name, ec)) {
      if (!is_image_file_name(e.path().filename().string())) continue;
      std::error_code e_ec;
      if (is_broken_link(e)) broken.push_back(e.path().string());
      else if (!e.is_directory(e_ec)) files.push_back(e.path().string());  // FIFOs, devices: read_image refuses them
    }
    if (files.empty()) {
      throw DataError((fs::path(dir) / name).string() + ": class folder has no images (.png, .jpg, .jpeg, .bmp)");
    }
    std::sort(files.begin(), files.end());
    scan.files.insert(scan.files.end(), files.begin(), files.end());
    scan.labels.insert(scan.labels.end(), files.size(), label);
  }
  std::sort(broken.begin(), broken.end());
  for (std::size_t i = 0; i < broken.size() && i < 10; ++i) {
    spdlog::warn("{}: skipped: dangling symbolic link or link loop", broken[i]);
  }
  if (broken.size() > 10) spdlog::warn("... {} more broken links skipped in {}", broken.size() - 10, dir);
  scan.broken_links = std::move(broken);
  return scan;
}

FolderScan limit_scan(const FolderScan& scan, std::int64_t n, std::int64_t seed) {
  const auto total = static_cast<std::int64_t>(scan.files.size());
  if (n <= 0 || n >= total) return scan;
  const auto labels = torch::tensor(scan.labels, torch::kInt64);
  const auto chosen = std::get<0>(stratified_order(labels, seed).narrow(0, 0, n).sort()).contiguous();
  FolderScan out;
  out.dir = scan.dir;
  out.class_names = scan.class_names;
  out.broken_links = scan.broken_links;
  const std::int64_t* idx = chosen.data_ptr<std::int64_t>();
  for (std::int64_t i = 0; i < n; ++i) {
    out.files.push_back(scan.files[static_cast<std::size_t>(idx[i])]);
    out.labels.push_back(scan.labels[static_cast<std::size_t>(idx[i])]);
  }
  return out;
}

FolderLoadResult load_image_folder(const FolderScan& scan, const FolderLoadOptions& o) {
  const auto n = static_cast<std::int64_t>(scan.files.size());
  const std::int64_t need = sat_mul(sat_mul(n, o.channels), sat_mul(o.size.height, o.size.width));
  if (need > physical_memory_bytes()) {
    throw DataError(scan.dir + ": " + with_commas(n) + " images of " + std::to_string(o.size.height) + "×" +
                    std::to_string(o.size.width) + "×" + std::to_string(o.channels) + " need " +
                    human_bytes(double(need)) + " of memory, more than the " +
                    human_bytes(double(physical_memory_bytes())) + " this machine has");
  }
  torch::Tensor images;
  try {
    images = torch::empty({n, o.channels, o.size.height, o.size.width}, torch::kUInt8);
  } catch (const c10::Error&) {
    throw DataError(scan.dir + ": cannot allocate " + human_bytes(double(need)) + " for " + with_commas(n) +
                    " images (out of memory)");
  }
  const std::int64_t image_bytes = images.numel() / std::max<std::int64_t>(n, 1);
  std::vector<std::string> errors(static_cast<std::size_t>(n));
  std::vector<char> bad(static_cast<std::size_t>(n), 0), was_resized(static_cast<std::size_t>(n), 0);
  std::atomic<std::int64_t> next{0};
  std::atomic<bool> stop{false};
  std::uint8_t* out = images.data_ptr<std::uint8_t>();

  auto work = [&]() {
    for (;;) {
      const std::int64_t i = next.fetch_add(64);
      if (i >= n || stop) return;
      for (std::int64_t k = i; k < std::min(n, i + 64); ++k) {
        const auto& file = scan.files[static_cast<std::size_t>(k)];
        try {
          ImageSize original;
          torch::Tensor img = read_image(file, o.channels, o.resize ? o.size : ImageSize{}, &original);
          if (original.height != o.size.height || original.width != o.size.width) {
            if (!o.resize) {
              errors[k] = file + ": image is " + std::to_string(original.height) + "×" + std::to_string(original.width) +
                          " but the model input is " + std::to_string(o.size.height) + "×" +
                          std::to_string(o.size.width) + " and resizing is off (data.resize: false)";
              stop = true;  // an inconsistent size is always an error
              return;
            }
            was_resized[k] = 1;
          }
          std::memcpy(out + k * image_bytes, img.data_ptr<std::uint8_t>(), static_cast<std::size_t>(image_bytes));
        } catch (const std::exception& e) {
          errors[k] = e.what();
          bad[k] = 1;
          if (!o.skip_bad) {
            stop = true;
            return;
          }
        }
      }
    }
  };
  int threads = o.threads > 0 ? o.threads : torch::get_num_threads();
  threads = static_cast<int>(std::max<std::int64_t>(1, std::min<std::int64_t>(threads, n / 64 + 1)));
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();

  FolderLoadResult result;
  for (std::int64_t k = 0; k < n; ++k) {
    if (errors[k].empty()) continue;
    if (!bad[k] || !o.skip_bad) throw DataError(errors[k]);
  }
  std::vector<std::int64_t> keep;
  keep.reserve(static_cast<std::size_t>(n));
  for (std::int64_t k = 0; k < n; ++k) {
    if (bad[k]) {
      if (result.skipped.size() < 10) spdlog::warn("skipping unreadable image: {}", errors[k]);
      result.skipped.push_back(scan.files[k]);
    } else {
      keep.push_back(k);
      result.resized += was_resized[k];
    }
  }
  if (result.skipped.size() > 10) spdlog::warn("... {} more unreadable images skipped", result.skipped.size() - 10);
  if (!result.skipped.empty()) {
    spdlog::warn("{}: skipped {} unreadable image(s) of {} (data.on_bad_image: skip)", scan.dir, result.skipped.size(), n);
  }
  auto labels = torch::tensor(scan.labels, torch::kInt64);
  if (keep.size() == static_cast<std::size_t>(n)) {
    result.set = ImageSet{images, labels};
  } else {
    if (keep.empty()) throw DataError(scan.dir + ": every image was unreadable");
    auto idx = torch::tensor(keep, torch::kInt64);
    result.set = ImageSet{images.index_select(0, idx), labels.index_select(0, idx)};
  }
  return result;
}

}  // namespace cnnkit
