#include "cnnkit/train/step_log.h"

#include <cstdio>
#include <fstream>
#include <sstream>

#include "cnnkit/core/atomic_file.h"

namespace cnnkit {

std::string step_log_csv(const std::vector<StepRow>& rows) {
  std::ostringstream out;
  out << "step,epoch,images,loss,accuracy,lr\n";
  char buf[160];
  for (const auto& r : rows) {
    std::snprintf(buf, sizeof buf, "%lld,%.6f,%lld,%.6g,%.6g,%.6g\n", static_cast<long long>(r.step), r.epoch,
                  static_cast<long long>(r.images), r.loss, r.accuracy, r.lr);
    out << buf;
  }
  return out.str();
}

void write_step_log(const std::string& path, const std::vector<StepRow>& rows) {
  write_text_atomically(path, step_log_csv(rows));
}

std::vector<StepRow> read_step_log(const std::string& path) {
  std::vector<StepRow> rows;
  std::ifstream in(path);
  std::string line;
  if (!in || !std::getline(in, line) || line.rfind("step,epoch,images,loss,accuracy,lr", 0) != 0) return rows;
  while (std::getline(in, line)) {
    StepRow r;
    long long step = 0, images = 0;
    if (std::sscanf(line.c_str(), "%lld,%lf,%lld,%lf,%lf,%lf", &step, &r.epoch, &images, &r.loss, &r.accuracy,
                    &r.lr) != 6)
      continue;
    r.step = step;
    r.images = images;
    rows.push_back(r);
  }
  return rows;
}

void merge_step_pairs(std::vector<StepRow>& rows) {
  std::vector<StepRow> out;
  out.reserve(rows.size() / 2 + 1);
  for (std::size_t i = 0; i + 1 < rows.size(); i += 2) {
    const StepRow &a = rows[i], &b = rows[i + 1];
    StepRow m = b;
    m.images = a.images + b.images;
    const double n = static_cast<double>(std::max<std::int64_t>(1, m.images));
    m.loss = (a.loss * static_cast<double>(a.images) + b.loss * static_cast<double>(b.images)) / n;
    m.accuracy = (a.accuracy * static_cast<double>(a.images) + b.accuracy * static_cast<double>(b.images)) / n;
    out.push_back(m);
  }
  if (rows.size() % 2) out.push_back(rows.back());
  rows = std::move(out);
}

}  // namespace cnnkit
