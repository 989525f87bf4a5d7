#include "cnnkit/train/run_index.h"

#include <algorithm>
#include <chrono>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <sstream>

#include "cnnkit/core/error.h"
#include "cnnkit/train/run_dir.h"

namespace cnnkit {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

const char* const kRunFiles[] = {"config.json", kRunStatusFile, "metrics.jsonl", "final.json", "best.pt", "last.pt",
                                 RunDirLock::kFileName};

bool file_exists(const fs::path& p) {
  std::error_code ec;
  return fs::exists(p, ec);
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A damaged file: the row says which and why.
struct Damage {
  std::string what;
};

json read_json_file(const fs::path& p) {
  try {
    return json::parse(slurp(p));
  } catch (const json::exception&) {
    throw Damage{p.filename().string() + " is not valid JSON"};
  }
}

// "2024-05-01T12:30:05+0200" -> seconds since the epoch; nullopt when malformed.
std::optional<std::time_t> parse_time(const std::string& iso) {
  std::tm tm{};
  std::istringstream in(iso);
  in >> std::get_time(&tm, "%Y-%m-%dT%H:%M:%S");
  if (in.fail()) return std::nullopt;
  tm.tm_isdst = -1;
  return std::mktime(&tm);  // local time, as written
}

std::string file_time_iso(const fs::path& p) {
  std::error_code ec;
  const auto ft = fs::last_write_time(p, ec);
  if (ec) return "";
  const auto sys = std::chrono::time_point_cast<std::chrono::system_clock::duration>(
      ft - fs::file_time_type::clock::now() + std::chrono::system_clock::now());
  const std::time_t t = std::chrono::system_clock::to_time_t(sys);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S%z", std::localtime(&t));
  return buf;
}

void read_metrics(const fs::path& file, RunRow& r) {
  std::istringstream lines(slurp(file));
  std::string line;
  double seconds = 0, images = 0;
  int n = 0;
  while (std::getline(lines, line)) {
    if (line.empty()) continue;
    json row;
    try {
      row = json::parse(line);
    } catch (const json::exception&) {
      throw Damage{"metrics.jsonl line " + std::to_string(n + 1) + " is not valid JSON"};
    }
    ++n;
    try {
      r.epochs_done = row.at("epoch").get<int>();
      const double val = row.at("val_accuracy").get<double>();
      if (!r.best_val_accuracy || val > *r.best_val_accuracy) {
        r.best_val_accuracy = val;
        r.best_epoch = r.epochs_done;
      }
      const double s = row.at("seconds").get<double>();
      seconds += s;
      images += s * row.at("images_per_second").get<double>();
    } catch (const json::exception&) {
      throw Damage{"metrics.jsonl line " + std::to_string(n) + " lacks epoch, val_accuracy, seconds or images_per_second"};
    }
  }
  if (n > 0) {
    r.train_seconds = seconds;
    if (seconds > 0) r.images_per_second = images / seconds;
  }
}

void read_files(const fs::path& dir, RunRow& r) {
  if (!file_exists(dir / "config.json")) throw Damage{"no config.json"};
  const json config = read_json_file(dir / "config.json");
  if (!config.is_object()) throw Damage{"config.json is not a JSON object"};
  r.config = config.value("name", "");
  if (config.contains("training") && config["training"].is_object()) {
    r.epochs_planned = config["training"].value("epochs", 0);
    r.precision = config["training"].value("precision", "");
  }
  if (file_exists(dir / "metrics.jsonl")) read_metrics(dir / "metrics.jsonl", r);

  std::optional<json> final_doc;
  if (file_exists(dir / "final.json")) {
    final_doc = read_json_file(dir / "final.json");
    try {
      r.test_accuracy = final_doc->at("test").at("accuracy").get<double>();
      r.epochs_done = std::max(r.epochs_done, final_doc->value("epochs", 0));
    } catch (const json::exception&) {
      throw Damage{"final.json has no test accuracy"};
    }
  }

  std::optional<json> status;
  if (file_exists(dir / kRunStatusFile)) {
    status = read_json_file(dir / kRunStatusFile);
    if (!status->is_object() || !status->contains("status") || !(*status)["status"].is_string())
      throw Damage{std::string(kRunStatusFile) + " has no status"};
  }
  const bool locked = RunDirLock::held(dir.string());
  if (status) {
    const std::string s = (*status)["status"].get<std::string>();
    if (locked)
      r.status = "running";
    else if (s == "running")
      r.status = "failed";  // its process ended without saying how: killed, or crashed
    else if (s == "finished" || s == "interrupted" || s == "failed")
      r.status = s;
    else
      throw Damage{std::string(kRunStatusFile) + ": unknown status '" + s + "'"};
    r.started = status->value("started", "");
    double wall = status->value("wall_seconds", 0.0);
    if (locked) {
      if (auto t = parse_time(status->value("session_started", ""))) wall += std::difftime(std::time(nullptr), *t);
    }
    r.wall_seconds = wall;
  } else {
    // Runs written before status.json existed.
    r.status = locked ? "running" : final_doc ? "finished" : file_exists(dir / "last.pt") ? "interrupted" : "failed";
  }
  if (r.started.empty()) r.started = file_time_iso(dir / "config.json");
}

void put(json& j, const char* key, const std::optional<double>& v) { j[key] = v ? json(*v) : json(nullptr); }

}  // namespace

json RunRow::to_json() const {
  json j = {{"name", name},
            {"path", path},
            {"config", config},
            {"status", status},
            {"epochs_done", epochs_done},
            {"epochs_planned", epochs_planned},
            {"best_epoch", best_val_accuracy ? json(best_epoch) : json(nullptr)},
            {"precision", precision},
            {"started", started}};
  put(j, "best_val_accuracy", best_val_accuracy);
  put(j, "test_accuracy", test_accuracy);
  put(j, "wall_seconds", wall_seconds);
  put(j, "train_seconds", train_seconds);
  put(j, "images_per_second", images_per_second);
  if (!problem.empty()) j["problem"] = problem;
  return j;
}

bool is_run_dir(const std::string& dir) {
  for (const char* f : kRunFiles)
    if (file_exists(fs::path(dir) / f)) return true;
  return false;
}

RunRow read_run(const std::string& run_dir) {
  const fs::path dir(run_dir);
  RunRow r;
  r.path = run_dir;
  r.name = dir.filename().empty() ? dir.parent_path().filename().string() : dir.filename().string();
  try {
    read_files(dir, r);
  } catch (const Damage& d) {
    r.status = "damaged";
    r.problem = d.what;
    if (r.started.empty()) r.started = file_time_iso(dir);
  } catch (const std::exception& e) {  // unreadable folder, odd file types
    r.status = "damaged";
    r.problem = e.what();
  }
  return r;
}

std::vector<RunRow> index_runs(const std::string& dir) {
  std::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    throw UsageError(dir + ": no such folder (train writes its runs into ./runs; give the folder that holds the run "
                     "directories)");
  }
  if (is_run_dir(dir)) return {read_run(dir)};
  std::vector<RunRow> rows;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (e.is_symlink(ec) || !e.is_directory(ec) || !is_run_dir(e.path().string())) continue;
    rows.push_back(read_run(e.path().string()));
  }
  std::sort(rows.begin(), rows.end(), [](const RunRow& a, const RunRow& b) {
    return a.started != b.started ? a.started < b.started : a.name < b.name;
  });
  return rows;
}

}  // namespace cnnkit
