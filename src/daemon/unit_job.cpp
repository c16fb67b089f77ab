#include "daemon/unit_job.hpp"

#include <systemd/sd-bus.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <memory>
#include <string_view>

namespace epollchat::daemon {
namespace {

constexpr const char* kSystemd = "org.freedesktop.systemd1";
// A stop must not wait long for an answer: systemd answers at once, or is not there.
constexpr std::uint64_t kCallTimeoutUsec = 2'000'000;

struct BusCloser {
  void operator()(sd_bus* bus) const noexcept { sd_bus_flush_close_unref(bus); }
};
struct MessageUnref {
  void operator()(sd_bus_message* message) const noexcept { sd_bus_message_unref(message); }
};
// SD_BUS_ERROR_NULL is a C compound literal; this is the same empty error, freed at the end.
struct BusError {
  sd_bus_error value{nullptr, nullptr, 0};
  BusError() = default;
  BusError(const BusError&) = delete;
  BusError& operator=(const BusError&) = delete;
  ~BusError() { sd_bus_error_free(&value); }
};
using Bus = std::unique_ptr<sd_bus, BusCloser>;
using Message = std::unique_ptr<sd_bus_message, MessageUnref>;

// The object path of the unit this process belongs to, or "" if systemd does not say.
std::string unit_of_this_process(sd_bus* bus) {
  BusError error;
  sd_bus_message* raw = nullptr;
  if (sd_bus_call_method(bus, kSystemd, "/org/freedesktop/systemd1",
                         "org.freedesktop.systemd1.Manager", "GetUnitByPID", &error.value, &raw,
                         "u", static_cast<std::uint32_t>(getpid())) < 0) {
    return {};
  }
  const Message reply(raw);
  const char* path = nullptr;
  if (sd_bus_message_read(reply.get(), "o", &path) < 0 || path == nullptr) return {};
  return path;
}

// The object path of the unit's queued or running job, "/" if it has none, "" on failure.
std::string job_of(sd_bus* bus, const std::string& unit) {
  BusError error;
  sd_bus_message* raw = nullptr;
  if (sd_bus_get_property(bus, kSystemd, unit.c_str(), "org.freedesktop.systemd1.Unit", "Job",
                          &error.value, &raw, "(uo)") < 0) {
    return {};
  }
  const Message reply(raw);
  std::uint32_t id = 0;
  const char* path = nullptr;
  if (sd_bus_message_read(reply.get(), "(uo)", &id, &path) < 0 || path == nullptr) return {};
  return id == 0 ? "/" : path;
}

std::string type_of(sd_bus* bus, const std::string& job) {
  BusError error;
  char* type = nullptr;
  if (sd_bus_get_property_string(bus, kSystemd, job.c_str(), "org.freedesktop.systemd1.Job",
                                 "JobType", &error.value, &type) < 0) {
    return {};
  }
  const std::unique_ptr<char, decltype(&std::free)> owned(type, &std::free);
  return type;
}

}  // namespace

StopPurpose ask_stop_purpose() {
  sd_bus* raw = nullptr;
  if (sd_bus_open_system(&raw) < 0) return StopPurpose::unknown;
  const Bus bus(raw);
  (void)sd_bus_set_method_call_timeout(bus.get(), kCallTimeoutUsec);
  const std::string unit = unit_of_this_process(bus.get());
  if (unit.empty()) return StopPurpose::unknown;
  const std::string job = job_of(bus.get(), unit);
  if (job.empty()) return StopPurpose::unknown;
  if (job == "/") return StopPurpose::stop;
  const std::string type = type_of(bus.get(), job);
  if (type.empty()) return StopPurpose::unknown;
  return type == "restart" ? StopPurpose::restart : StopPurpose::stop;
}

}  // namespace epollchat::daemon
