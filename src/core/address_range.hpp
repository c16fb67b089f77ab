// AddressRange: one block of IP addresses written in CIDR notation ("10.0.0.0/8", "fc00::/7",
// or a single host: "127.0.0.1", "::1"); AddressRanges: a list of them, which says whether a
// peer's address is in any.
//
// Owns: the network bytes and prefix length of each range. Never: resolves names, reads the
// system's interfaces or decides what a caller does with a peer outside the list.
// Lifetime: plain values.
//
// A listener on "::" reports an IPv4 peer as an IPv4-mapped IPv6 address (::ffff:10.0.0.1);
// such a peer is matched, and written, as the IPv4 address it maps, so that "10.0.0.0/8"
// means the same whatever the listen address.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/socket.hpp"

namespace epollchat {

class AddressRange {
 public:
  // "10.0.0.0/8", "fc00::/7", "127.0.0.1" (a /32), "::1" (a /128); nullopt for anything else.
  // Bits past the prefix length are cleared: "192.168.1.7/24" is 192.168.1.0/24.
  static std::optional<AddressRange> parse(std::string_view text);

  // Whether `address` (IPv4, IPv6 or IPv4-mapped IPv6) is in the range.
  [[nodiscard]] bool contains(const SocketAddress& address) const noexcept;
  // The range as parse() takes it, a host without its prefix length: "10.0.0.0/8", "::1".
  [[nodiscard]] std::string to_string() const;

  bool operator==(const AddressRange&) const = default;

 private:
  int family_ = 0;                          // AF_INET or AF_INET6
  std::array<std::uint8_t, 16> network_{};  // the first 4 bytes for AF_INET
  unsigned prefix_length_ = 0;
};

class AddressRanges {
 public:
  // Ranges separated by commas and/or spaces; "any" stands for 0.0.0.0/0 and ::/0. nullopt if
  // an entry is not a range or the list is empty; `refused`, if given, is then set to the
  // first entry that is not a range (or to all of `text` when it holds none).
  static std::optional<AddressRanges> parse(std::string_view text,
                                            std::string_view* refused = nullptr);
  // Every IPv4 and IPv6 address.
  static AddressRanges any();

  [[nodiscard]] bool contains(const SocketAddress& address) const noexcept;
  // Whether every address is in the list: a caller may then skip asking for the peer's.
  [[nodiscard]] bool contains_everything() const noexcept { return everything_; }
  // "10.0.0.0/8, fc00::/7"
  [[nodiscard]] std::string to_string() const;

  bool operator==(const AddressRanges&) const = default;

 private:
  std::vector<AddressRange> ranges_;
  bool everything_ = false;
};

// The host part of `address` as a person reads it, without brackets or port: "10.0.0.1",
// "2001:db8::1"; an IPv4-mapped IPv6 address as the IPv4 address it maps.
std::string host_text(const SocketAddress& address);

}  // namespace epollchat
