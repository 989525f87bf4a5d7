// Registry<T>: the named, open sets of the program (layer types, data sources, optimizers,
// schedules, observers, ...). Members register themselves from a static object in their own
// source file, so adding one touches that file and its test only.
//
// Ensures: a duplicate name is refused (std::logic_error: a programming error, found by the
// first test run); an unknown name is an error listing the known ones.
#pragma once
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "cnnkit/core/error.h"
#include "cnnkit/core/strings.h"

namespace cnnkit {

template <typename T>
class Registry {
 public:
  // `what` names a member in messages: "layer type", "data source", "optimizer".
  explicit Registry(std::string what) : what_(std::move(what)) {}

  void add(const std::string& name, std::unique_ptr<T> member) {
    if (name.empty()) throw std::logic_error("cnnkit: a " + what_ + " registered without a name");
    if (members_.count(name)) throw std::logic_error("cnnkit: duplicate registration of " + what_ + " '" + name + "'");
    members_.emplace(name, std::move(member));
  }
  const T* find(const std::string& name) const {
    auto it = members_.find(name);
    return it == members_.end() ? nullptr : it->second.get();
  }
  // Throws Error "unknown optimizer 'x' (did you mean 'y'?); known: a, b" (exit 1: names in
  // configs are checked, with their JSON pointer, when the config is resolved).
  const T& get(const std::string& name) const {
    if (const T* m = find(name)) return *m;
    throw Error(unknown_message(name));
  }
  std::string unknown_message(const std::string& name) const {
    auto known = names();
    return "unknown " + what_ + " '" + name + "'" + did_you_mean(name, known) + "; known: " + join(known, ", ");
  }
  std::vector<std::string> names() const {
    std::vector<std::string> out;
    for (const auto& [k, _] : members_) out.push_back(k);
    return out;
  }
  const std::map<std::string, std::unique_ptr<T>>& members() const { return members_; }

 private:
  std::string what_;
  std::map<std::string, std::unique_ptr<T>> members_;
};

}  // namespace cnnkit
