// AddressRange and AddressRanges: CIDR ranges and hosts, IPv4 and IPv6, lists separated by
// commas and spaces, "any", what is refused, and peers on an IPv6 listener that are IPv4.
#include "core/address_range.hpp"

#include <gtest/gtest.h>

#include <initializer_list>
#include <string>
#include <string_view>

namespace epollchat {
namespace {

SocketAddress peer(std::string_view host) {
  const auto address = SocketAddress::from_numeric(host, 4242);
  EXPECT_TRUE(address.has_value()) << host;
  return address.value_or(SocketAddress());
}

// Whether each host is inside (or outside) the range it is paired with.
struct Case {
  std::string_view range;
  std::string_view host;
  bool inside;
};

void expect_cases(std::initializer_list<Case> cases) {
  for (const Case& c : cases) {
    const auto range = AddressRange::parse(c.range);
    ASSERT_TRUE(range.has_value()) << c.range;
    EXPECT_EQ(range->contains(peer(c.host)), c.inside) << c.host << " in " << c.range;
  }
}

TEST(AddressRange, Ipv4Network) {
  expect_cases({
      {"10.0.0.0/8", "10.0.0.0", true},
      {"10.0.0.0/8", "10.255.255.255", true},
      {"10.0.0.0/8", "11.0.0.0", false},
      {"10.0.0.0/8", "9.255.255.255", false},
      // A prefix that does not end on a byte.
      {"172.16.0.0/12", "172.31.255.255", true},
      {"172.16.0.0/12", "172.32.0.0", false},
      {"172.16.0.0/12", "172.15.255.255", false},
      {"100.64.0.0/10", "100.127.1.2", true},
      {"100.64.0.0/10", "100.128.0.0", false},
  });
}

TEST(AddressRange, HostIsItsOwnRange) {
  expect_cases({
      {"127.0.0.1", "127.0.0.1", true},
      {"127.0.0.1", "127.0.0.2", false},
      {"::1", "::1", true},
      {"::1", "::2", false},
      {"127.0.0.2/32", "127.0.0.2", true},
  });
}

TEST(AddressRange, Ipv6Network) {
  expect_cases({
      {"fc00::/7", "fd12:3456::1", true},
      {"fc00::/7", "fc00::", true},
      {"fc00::/7", "fe00::1", false},
      {"fe80::/10", "fe80::1", true},
      {"fe80::/10", "febf::1", true},
      {"fe80::/10", "fec0::1", false},
      {"::/0", "2001:db8::1", true},
  });
}

TEST(AddressRange, FamiliesDoNotMix) {
  expect_cases({
      {"0.0.0.0/0", "::1", false},
      {"::/0", "127.0.0.1", false},
      // ::ffff:0:0/96 is how IPv4 peers look on an IPv6 socket, not an IPv6 range they are in.
      {"2001:db8::/32", "::ffff:10.0.0.1", false},
  });
}

TEST(AddressRange, Ipv4MappedPeerMatchesIpv4Ranges) {
  expect_cases({
      {"10.0.0.0/8", "::ffff:10.1.2.3", true},
      {"10.0.0.0/8", "::ffff:11.1.2.3", false},
      {"127.0.0.1", "::ffff:127.0.0.1", true},
      {"0.0.0.0/0", "::ffff:203.0.113.5", true},
  });
}

TEST(AddressRange, BitsPastThePrefixAreCleared) {
  const auto range = AddressRange::parse("192.168.1.7/24");
  ASSERT_TRUE(range);
  EXPECT_EQ(range->to_string(), "192.168.1.0/24");
  EXPECT_TRUE(range->contains(peer("192.168.1.200")));
  EXPECT_EQ(AddressRange::parse("fd00::1/8")->to_string(), "fd00::/8");
}

TEST(AddressRange, WrittenAsParsed) {
  for (const char* text : {"10.0.0.0/8", "fc00::/7", "127.0.0.1", "::1", "0.0.0.0/0", "::/0",
                           "169.254.0.0/16", "fe80::/10"}) {
    const auto range = AddressRange::parse(text);
    ASSERT_TRUE(range) << text;
    EXPECT_EQ(range->to_string(), text);
  }
  EXPECT_EQ(AddressRange::parse("10.0.0.1/32")->to_string(), "10.0.0.1");
}

TEST(AddressRange, RefusesWhatIsNotARange) {
  for (const char* text :
       {"", "10.0.0.0/33", "::/129", "10.0.0.0/", "/8", "10.0.0.0/8/8", "10.0.0.0/-1",
        "10.0.0.0/+8", "10.0.0.0/ 8", "10.0.0.0/0008", "300.1.2.3", "10.0.0", "localhost", "[::1]",
        "[::1]/128", "127.0.0.1:8888", "any", "10.0.0.0/8 ", "fe80::1%eth0"}) {
    EXPECT_FALSE(AddressRange::parse(text).has_value()) << text;
  }
}

TEST(AddressRanges, SeparatedByCommasAndSpaces) {
  const auto list = AddressRanges::parse("10.0.0.0/8, fc00::/7 127.0.0.1,::1\t192.168.0.0/16");
  ASSERT_TRUE(list);
  EXPECT_EQ(list->to_string(), "10.0.0.0/8, fc00::/7, 127.0.0.1, ::1, 192.168.0.0/16");
  EXPECT_TRUE(list->contains(peer("10.9.8.7")));
  EXPECT_TRUE(list->contains(peer("fd00::5")));
  EXPECT_TRUE(list->contains(peer("::1")));
  EXPECT_TRUE(list->contains(peer("192.168.3.4")));
  EXPECT_TRUE(list->contains(peer("::ffff:192.168.3.4")));
  EXPECT_FALSE(list->contains(peer("127.0.0.2")));
  EXPECT_FALSE(list->contains(peer("2001:db8::1")));
  EXPECT_FALSE(list->contains_everything());
}

TEST(AddressRanges, AnyIsEveryAddress) {
  for (const char* text : {"any", " any ", "0.0.0.0/0, ::/0", "10.0.0.0/8 any"}) {
    const auto list = AddressRanges::parse(text);
    ASSERT_TRUE(list) << text;
    EXPECT_TRUE(list->contains_everything()) << text;
    EXPECT_TRUE(list->contains(peer("203.0.113.5"))) << text;
    EXPECT_TRUE(list->contains(peer("2001:db8::1"))) << text;
  }
  EXPECT_EQ(AddressRanges::any(), *AddressRanges::parse("any"));
  EXPECT_EQ(AddressRanges::any().to_string(), "0.0.0.0/0, ::/0");
  // One family alone is not everything.
  EXPECT_FALSE(AddressRanges::parse("0.0.0.0/0")->contains_everything());
  EXPECT_FALSE(AddressRanges::parse("0.0.0.0/0")->contains(peer("::1")));
}

TEST(AddressRanges, RefusalNamesTheFirstBadEntry) {
  std::string_view refused;
  EXPECT_FALSE(AddressRanges::parse("10.0.0.0/8, 10.0.0.0/33, nonsense", &refused));
  EXPECT_EQ(refused, "10.0.0.0/33");
  EXPECT_FALSE(AddressRanges::parse("localhost", &refused));
  EXPECT_EQ(refused, "localhost");
  EXPECT_FALSE(AddressRanges::parse("10.0.0.0/8;192.168.0.0/16", &refused));
  EXPECT_EQ(refused, "10.0.0.0/8;192.168.0.0/16");
}

TEST(AddressRanges, AnEmptyListIsRefused) {
  for (const char* text : {"", " ", ", ,", "\t"}) {
    std::string_view refused = "unset";
    EXPECT_FALSE(AddressRanges::parse(text, &refused).has_value()) << '"' << text << '"';
    EXPECT_EQ(refused, text);
  }
}

TEST(HostText, WithoutPortOrBracketsAndMappedAsIpv4) {
  EXPECT_EQ(host_text(peer("203.0.113.5")), "203.0.113.5");
  EXPECT_EQ(host_text(peer("2001:db8::1")), "2001:db8::1");
  EXPECT_EQ(host_text(peer("::1")), "::1");
  EXPECT_EQ(host_text(peer("::ffff:203.0.113.5")), "203.0.113.5");
}

}  // namespace
}  // namespace epollchat
