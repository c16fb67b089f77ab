#include "core/address_range.hpp"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

namespace epollchat {
namespace {

// An address without port, IPv4-mapped IPv6 taken as IPv4.
struct Host {
  int family = 0;
  std::array<std::uint8_t, 16> bytes{};
};

std::optional<Host> host_of(const SocketAddress& address) noexcept {
  Host host;
  if (address.family() == AF_INET) {
    const auto* v4 = reinterpret_cast<const sockaddr_in*>(address.data());
    host.family = AF_INET;
    std::memcpy(host.bytes.data(), &v4->sin_addr, 4);
    return host;
  }
  if (address.family() == AF_INET6) {
    const auto* v6 = reinterpret_cast<const sockaddr_in6*>(address.data());
    if (IN6_IS_ADDR_V4MAPPED(&v6->sin6_addr)) {
      host.family = AF_INET;
      std::memcpy(host.bytes.data(), v6->sin6_addr.s6_addr + 12, 4);
    } else {
      host.family = AF_INET6;
      std::memcpy(host.bytes.data(), v6->sin6_addr.s6_addr, 16);
    }
    return host;
  }
  return std::nullopt;
}

unsigned width_of(int family) noexcept { return family == AF_INET ? 32 : 128; }

// Whether the first `bits` bits of `a` and `b` agree.
bool same_prefix(const std::array<std::uint8_t, 16>& a, const std::array<std::uint8_t, 16>& b,
                 unsigned bits) noexcept {
  const unsigned whole = bits / 8;
  if (!std::equal(a.begin(), a.begin() + whole, b.begin())) return false;
  if (bits % 8 == 0) return true;
  const auto mask = static_cast<std::uint8_t>(0xff << (8 - bits % 8));
  return (a[whole] & mask) == (b[whole] & mask);
}

bool is_separator(char c) noexcept { return c == ',' || c == ' ' || c == '\t'; }

}  // namespace

std::optional<AddressRange> AddressRange::parse(std::string_view text) {
  std::string_view address = text;
  std::optional<unsigned> prefix_length;
  if (const auto slash = text.find('/'); slash != std::string_view::npos) {
    address = text.substr(0, slash);
    const std::string_view digits = text.substr(slash + 1);
    unsigned length = 0;
    const char* end = digits.data() + digits.size();
    const auto [rest, error] = std::from_chars(digits.data(), end, length);
    // Digits only: from_chars would take "+8" or " 8" as malformed anyway, "08" as 8.
    if (digits.empty() || digits.size() > 3 || error != std::errc() || rest != end) {
      return std::nullopt;
    }
    prefix_length = length;
  }
  // Brackets belong to host:port, not to a range.
  if (address.empty() || address.front() == '[') return std::nullopt;
  const auto parsed = SocketAddress::from_numeric(address, 0);
  if (!parsed) return std::nullopt;

  AddressRange range;
  range.family_ = parsed->family();
  if (range.family_ == AF_INET) {
    std::memcpy(range.network_.data(),
                &reinterpret_cast<const sockaddr_in*>(parsed->data())->sin_addr, 4);
  } else {
    std::memcpy(range.network_.data(),
                reinterpret_cast<const sockaddr_in6*>(parsed->data())->sin6_addr.s6_addr, 16);
  }
  const unsigned width = width_of(range.family_);
  range.prefix_length_ = prefix_length.value_or(width);
  if (range.prefix_length_ > width) return std::nullopt;
  // Bits past the prefix are cleared, as systemd's IPAddressAllow= and nginx's "allow" do:
  // "192.168.1.7/24" is the network 192.168.1.0/24.
  for (unsigned bit = range.prefix_length_; bit < width; ++bit) {
    range.network_[bit / 8] &= static_cast<std::uint8_t>(~(0x80U >> (bit % 8)));
  }
  return range;
}

bool AddressRange::contains(const SocketAddress& address) const noexcept {
  const auto host = host_of(address);
  return host && host->family == family_ && same_prefix(host->bytes, network_, prefix_length_);
}

std::string AddressRange::to_string() const {
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(family_, network_.data(), text, sizeof text);
  if (prefix_length_ == width_of(family_)) return text;
  return std::string(text) + "/" + std::to_string(prefix_length_);
}

std::optional<AddressRanges> AddressRanges::parse(std::string_view text,
                                                  std::string_view* refused) {
  AddressRanges list;
  std::size_t at = 0;
  while (true) {
    while (at < text.size() && is_separator(text[at])) ++at;
    if (at == text.size()) break;
    std::size_t end = at;
    while (end < text.size() && !is_separator(text[end])) ++end;
    const std::string_view entry = text.substr(at, end - at);
    at = end;
    if (entry == "any") {
      for (const AddressRange& range : any().ranges_) list.ranges_.push_back(range);
      continue;
    }
    const auto range = AddressRange::parse(entry);
    if (!range) {
      if (refused != nullptr) *refused = entry;
      return std::nullopt;
    }
    list.ranges_.push_back(*range);
  }
  if (list.ranges_.empty()) {
    if (refused != nullptr) *refused = text;
    return std::nullopt;
  }
  const auto everything = [&](std::string_view whole) {
    return std::find(list.ranges_.begin(), list.ranges_.end(), *AddressRange::parse(whole)) !=
           list.ranges_.end();
  };
  list.everything_ = everything("0.0.0.0/0") && everything("::/0");
  return list;
}

AddressRanges AddressRanges::any() {
  AddressRanges list;
  list.ranges_ = {*AddressRange::parse("0.0.0.0/0"), *AddressRange::parse("::/0")};
  list.everything_ = true;
  return list;
}

bool AddressRanges::contains(const SocketAddress& address) const noexcept {
  return everything_ || std::any_of(ranges_.begin(), ranges_.end(),
                                    [&](const AddressRange& r) { return r.contains(address); });
}

std::string AddressRanges::to_string() const {
  std::string text;
  for (const AddressRange& range : ranges_) {
    if (!text.empty()) text += ", ";
    text += range.to_string();
  }
  return text;
}

std::string host_text(const SocketAddress& address) {
  const auto host = host_of(address);
  if (!host) return "(unknown address family " + std::to_string(address.family()) + ")";
  char text[INET6_ADDRSTRLEN] = {};
  inet_ntop(host->family, host->bytes.data(), text, sizeof text);
  return text;
}

}  // namespace epollchat
