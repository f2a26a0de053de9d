// A small HTTP server interface, so that routes do not depend on
// cpp-httplib (the only file that includes it is http.cpp).
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace wallet::daemon {

struct HttpRequest {
  std::string method;
  std::string path;
  std::string body;
  std::string request_id;                    // generated per request, echoed as X-Request-Id
  std::vector<std::string> path_params;      // the pattern's capture groups, in order
  std::map<std::string, std::string> query;  // decoded query parameters
  std::map<std::string, std::string> headers;  // lower-case names

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
// Runs before routing; a response stops the request there (auth, limits).
using HttpFilter = std::function<std::optional<HttpResponse>(const HttpRequest&)>;
// Called once per finished request with its route name ("" if none matched).
using HttpObserver = std::function<void(const HttpRequest&, int status, const std::string& route, double seconds)>;

// Longest request line and header line cpp-httplib reads
// (CPPHTTPLIB_REQUEST_URI_MAX_LENGTH and CPPHTTPLIB_HEADER_MAX_LENGTH of the
// Debian build); documented in walletd(8).
inline constexpr std::size_t kLineBytesMax = 8192;
// Requests served on one keep-alive connection before walletd closes it
// (cpp-httplib's default is 5); documented in walletd(8).
inline constexpr std::size_t kKeepAliveRequestsMax = 1000;

struct HttpOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see bound_port)
  int threads = 8;
  std::size_t body_bytes_max = 65536;  // a longer body is answered 413
  // More header fields than this is invalid input (400), as is a request
  // line or a header line longer than kLineBytesMax (cpp-httplib's 414 for
  // the request line is answered 400 too).
  std::size_t header_fields_max = 64;
  std::chrono::milliseconds io_timeout{10'000};  // read and write timeouts per request
};

class HttpServer {
 public:
  explicit HttpServer(HttpOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `pattern` is a regular expression over the path; its groups become
  // path_params. `name` labels the route in metrics and logs.
  void route(const std::string& method, const std::string& pattern, const std::string& name, HttpHandler handler);
  void filter(HttpFilter filter);
  void observe(HttpObserver observer);

  // Binds the socket; false (with a log line) when it cannot.
  bool bind();
  int bound_port() const;
  // Serves until stop(); in-flight requests finish first.
  bool serve();
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// {"error": {"code", "message"}} with the status of the code.
HttpResponse error_response(int status, const std::string& code, const std::string& message);

}  // namespace wallet::daemon
