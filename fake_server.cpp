// A listener that reads each request and answers with crafted bytes. Every call must return in
// its timeout (timeout_ms=800) with an error, never crash or hang, memory stays bounded.
// usage: fake_server [case]
#include <atomic>
#include <poll.h>
#include <sys/resource.h>
#include "common.h"
struct Fake {
  int fd, port;
  std::atomic<bool> stop{false};
  std::thread th;
  std::string answer;
  bool per_read;
  Fake(std::string a, bool pr = true) : answer(std::move(a)), per_read(pr) {
    fd = ::socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    sockaddr_in ad{};
    ad.sin_family = AF_INET;
    ad.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t l = sizeof ad;
    ::bind(fd, (sockaddr*)&ad, sizeof ad);
    ::listen(fd, 16);
    ::getsockname(fd, (sockaddr*)&ad, &l);
    port = ntohs(ad.sin_port);
    th = std::thread([this] {
      std::vector<int> cl;
      while (!stop) {
        std::vector<pollfd> fds{{fd, POLLIN, 0}};
        for (int c : cl) fds.push_back({c, POLLIN, 0});
        if (::poll(fds.data(), fds.size(), 20) <= 0) continue;
        if (fds[0].revents) {
          int c = ::accept(fd, nullptr, nullptr);
          if (c >= 0) cl.push_back(c);
        }
        for (size_t i = 1; i < fds.size(); ++i)
          if (fds[i].revents & POLLIN) {
            char buf[65536];
            ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
            if (n > 0 && !answer.empty())
              (void)!::send(fds[i].fd, answer.data(), answer.size(), MSG_NOSIGNAL);
          }
      }
      for (int c : cl) ::close(c);
    });
  }
  ~Fake() {
    stop = true;
    th.join();
    ::close(fd);
  }
};
static long rss_kb() {
  struct rusage u;
  getrusage(RUSAGE_SELF, &u);
  return u.ru_maxrss;
}
int main(int argc, char** argv) {
  signal(SIGPIPE, SIG_IGN);
  LogCap logs;
  logs.install();
  std::vector<std::pair<std::string, std::string>> cases = {
      {"partial status", "+PO"},
      {"PONG then garbage", "+PONG\r\n!!!garbage\r\n"},
      {"huge bulk len", "$2147483647\r\nabc"},
      {"huge multibulk", "*2147483647\r\n"},
      {"giant multibulk count", "*9223372036854775807\r\n"},
      {"negative bulk", "$-5\r\n"},
      {"overflow bulk", "$99999999999999999999999\r\n"},
      {"nested arrays", std::string(100000, '*').insert(0, "")},
      {"deep nesting",
       [] {
         std::string s;
         for (int i = 0; i < 10; ++i) s += "*1\r\n";
         return s;
       }()},
      {"pong then array for every cmd", "+PONG\r\n*1\r\n*2\r\n$3\r\n1-0\r\n*-1\r\n"},
      {"http", "HTTP/1.1 400 Bad Request\r\n\r\n"},
      {"binary", std::string("\x00\xff\r\n\x01", 5)},
  };
  for (auto& [name, ans] : cases) {
    if (argc > 1 && name != argv[1]) continue;
    Fake f(ans);
    auto o = orc::Orchestration::from_uri("redis://127.0.0.1:" + std::to_string(f.port) +
                                          "?timeout_ms=800")
                 .value();
    auto t0 = SClock::now();
    auto a = orc::Admin::create(o).value();
    auto v = a.validate_connection(1000ms);
    long tv = ms_since(t0);
    t0 = SClock::now();
    auto tp = a.topics();
    long tt = ms_since(t0);
    t0 = SClock::now();
    auto p = orc::Producer::create(o, "t", {.send_timeout = 500ms, .flush_timeout = 500ms}).value();
    auto ps = p.send(make_msg(1), true);
    long tps = ms_since(t0);
    t0 = SClock::now();
    auto c = orc::Consumer::create("t", o, {.group = "g"});
    long tc = ms_since(t0);
    t0 = SClock::now();
    std::string cs =
        c ? std::string(orc::to_string(c->receive(std::vector<mes::MLOpsMessage>{}.empty()
                                                      ? *new std::vector<mes::MLOpsMessage>()
                                                      : *new std::vector<mes::MLOpsMessage>(),
                                                  {}, 300ms)))
          : c.error().message.substr(0, 80);
    long tr = ms_since(t0);
    printf(
        "%-30s validate %4ldms %-60.60s | topics %4ldms %s | send+flush %4ldms %s | consumer "
        "%4ldms recv %4ldms %s | maxrss %ld MB\n",
        name.c_str(), tv, v ? "OK?!" : v.error().message.c_str(), tt, tp ? "OK?!" : "err", tps,
        std::string(orc::to_string(ps)).c_str(), tc, tr, cs.c_str(), rss_kb() / 1024);
  }
}
