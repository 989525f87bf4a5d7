// cnnkit's error hierarchy. Every failure a user can cause is one of these; `main` maps them to
// exit codes (2 = usage/config, 1 = anything else) and prints the message as one line.
// Messages name the file and the place in it, what was expected and what was found.
#pragma once
#include <stdexcept>
#include <string>

namespace cnnkit {

class Error : public std::runtime_error {
 public:
  explicit Error(const std::string& what) : std::runtime_error(what) {}
  virtual int exit_code() const { return 1; }
};

// Bad command line or option value (exit 2).
class UsageError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

// Bad config file or override (exit 2).
class ConfigError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 2; }
};

// A layer that cannot take its input's shape (a config error, exit 2).
class ShapeError : public ConfigError {
 public:
  using ConfigError::ConfigError;
};

class DataError : public Error {
 public:
  using Error::Error;
};

class CheckpointError : public Error {
 public:
  using Error::Error;
};

class ImageIOError : public Error {
 public:
  using Error::Error;
};

class TrainingError : public Error {
 public:
  using Error::Error;
};

// Training stopped on SIGINT/SIGTERM after writing a checkpoint.
class InterruptedError : public Error {
 public:
  using Error::Error;
  int exit_code() const override { return 130; }
};

}  // namespace cnnkit
