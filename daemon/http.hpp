// A small HTTP server interface, so that routes do not depend on the HTTP
// library (Boost.Beast on Boost.Asio; the only file that includes it is
// http.cpp).
//
// Event-driven: a few I/O threads read and write every connection without
// blocking; a request whose route may block (database work) runs on a
// bounded pool of handler threads, and its connection waits without holding
// any thread. Idle keep-alive connections cost a socket and a timer each.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/domain/status.hpp"

namespace wallet::daemon {

struct HttpRequest {
  std::string method;
  std::string path;  // percent-decoded
  std::string body;
  std::string request_id;                    // generated per request, echoed as X-Request-Id
  std::string remote_address;                // the peer's IP address
  std::string principal;                     // set by a filter (the authenticated token's name)
  std::vector<std::string> path_params;      // the pattern's capture groups, in order
  std::map<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names; the first of repeated fields

  std::optional<std::string> header(const std::string& lower_name) const;
  std::optional<std::string> query_param(const std::string& name) const;
};

struct HttpResponse {
  int status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Runs on an I/O thread before routing and must not block; a response stops
// the request there (auth, limits). It may set request.principal.
using HttpFilter = std::function<std::optional<HttpResponse>(HttpRequest&)>;
// Called once per answered request with its route name ("" if none
// matched), on an I/O thread after the answer is written.
using HttpObserver = std::function<void(const HttpRequest&, int status, const std::string& route, double seconds)>;

// Where a route's handler runs: `blocking` ones (database work) on the
// handler pool, `immediate` ones (no I/O, microseconds) on the I/O thread.
enum class Dispatch { blocking, immediate };

// Longest request line (method, target, version) and longest header line;
// past either the answer is 400. Documented in walletd(8).
inline constexpr std::size_t kLineBytesMax = 8192;
// Longest request header as a whole (request line and every field): a
// bound on what one connection may make walletd buffer before a body.
inline constexpr std::size_t kHeaderBytesMax = 65536;
// Requests served on one keep-alive connection before walletd closes it;
// documented in walletd(8).
inline constexpr std::size_t kKeepAliveRequestsMax = 1000;
// How long an idle keep-alive connection (or a new one) may wait for the
// first byte of its next request.
inline constexpr std::chrono::milliseconds kKeepAliveIdle{5'000};

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see bound_port)
  int io_threads = 2;  // threads running the event loop
  int threads = 8;     // handler threads for Dispatch::blocking routes
  std::size_t body_bytes_max = 65536;  // a longer body is answered 413
  // More header fields than this is invalid input (400), as is a request
  // line or a header line longer than kLineBytesMax.
  std::size_t header_fields_max = 64;
  // Whole-request deadline: from a request's first byte until its body is
  // read (however slowly it trickles in), and again for writing the answer.
  std::chrono::milliseconds request_timeout{10'000};
  // Open connections at most; one more is answered 503 and closed.
  int connections_max = 4096;
  // PEM files; both empty: plain HTTP.
  std::string tls_cert;
  std::string tls_key;
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is a regular expression over the path; its groups become
  // path_params. `name` labels the route in metrics and logs. Register
  // routes, filters and observers before serve().
  void route(const std::string& method, const std::string& pattern, const std::string& name, HttpHandler handler,
             Dispatch dispatch = Dispatch::blocking);
  void filter(HttpFilter filter);
  void observe(HttpObserver observer);

  // Binds the socket; Invalid with a one-line reason when it cannot.
  Status bind();
  int bound_port() const;
  bool tls() const;
  // (Re)reads the TLS certificate and key, when configured, for
  // connections accepted from now on; Invalid with a one-line reason on
  // failure, and the old ones stay in use. Call once before serve() to
  // serve TLS. Thread-safe.
  Status reload_tls();
  // Serves until stop(); returns after in-flight requests have finished
  // (idle connections are closed at once).
  void serve();
  // Thread-safe; may be called from any thread, before or during serve().
  void stop();
  // Connections open right now (for /metrics). Thread-safe.
  int connections() const;

  struct Impl;  // defined in http.cpp, with the connections it serves

 private:
  std::shared_ptr<Impl> impl_;
};

// {"error": {"code", "message"}} with the status of the code.
HttpResponse error_response(int status, const std::string& code, const std::string& message);

}  // namespace wallet::daemon
