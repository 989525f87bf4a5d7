// Internal to dist/: the TCPStore rendezvous. The store is hosted by rank 0, or, under
// torchrun's agent store and for --nproc workers, by the launcher (every rank is a client and
// works under launch.store_prefix). All keys cnnkit uses live under "<prefix>/cnnkit/".
#pragma once
#include <torch/csrc/distributed/c10d/Store.hpp>

#include <chrono>
#include <exception>
#include <string>

#include "cnnkit/dist/launch_env.h"

namespace cnnkit::dist::detail {

// Connects to (or, on rank 0 without an agent store, hosts) the store; returns the store
// prefixed with "<prefix>/cnnkit". Throws UsageError when the address cannot be reached or the
// port cannot be listened on within `timeout`.
c10::intrusive_ptr<c10d::Store> connect_store(const LaunchInfo& launch, std::chrono::milliseconds timeout);

// Every rank announces itself and waits until all `world_size` ranks have. Throws UsageError
// for two processes with the same rank or disagreeing world sizes, DistributedError naming
// the missing ranks after `timeout`.
void join(c10d::Store& store, const LaunchInfo& launch, std::chrono::milliseconds timeout);

// The first line of an exception's message, without c10's backtrace or Gloo's
// "[file.cc:123] " location prefix.
std::string clean_message(std::exception_ptr e);

// "host:pid" of this process.
std::string process_tag();

std::string seconds_text(std::chrono::milliseconds d);

}  // namespace cnnkit::dist::detail
