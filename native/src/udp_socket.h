// UDP socket setup for the underlay (COLD PATH): addresses, the listening socket and the pool
// of send-only source-port sockets.
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ovnet {

struct SockAddr {
  union {
    sockaddr sa;
    sockaddr_in in4;
    sockaddr_in6 in6;
  } u;
  socklen_t len = 0;  // 0: not set
  int family() const { return u.sa.sa_family; }
  uint16_t port() const;
};

// A numeric IPv4 or IPv6 literal (no names, no brackets, no zone) and a port.
bool MakeSockAddr(const std::string& address, uint32_t port, SockAddr* out);

// RFC 7348 section 5: source ports for the outer header come from the dynamic range.
constexpr uint16_t kSourcePortMin = 49152;
constexpr uint16_t kSourcePortMax = 65535;

struct SocketSpec {
  int rcvbuf = 0;  // 0: leave the kernel default
  int sndbuf = 0;
  bool dropAll = false;  // send-only: a BPF filter discards every datagram before it is queued
  bool reusePort = false;  // SO_REUSEPORT: one socket per worker on the same port
};

// A non-blocking, close-on-exec UDP socket bound to `local` (IPv6 sockets are IPv6-only).
// Returns the descriptor, or -1 with errno set and *failed naming the call that failed.
int OpenUdpSocket(const SockAddr& local, const SocketSpec& spec, const char** failed);

// Opens `count` send-only sockets on `local`'s address, each on a distinct random port in
// kSourcePortMin..kSourcePortMax (retrying ports already in use). On failure closes what it
// opened and returns false with errno set and *failed naming the call.
bool OpenSourcePool(const SockAddr& local, uint32_t count, int sndbuf, std::vector<int>* fds,
                    std::vector<uint16_t>* ports, const char** failed);

// The size getsockopt reports (the kernel doubles the request for its bookkeeping).
int EffectiveBuffer(int fd, int option);
uint16_t BoundPort(int fd);

}  // namespace ovnet
