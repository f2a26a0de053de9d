#include "daemon/http.hpp"

#include <httplib.h>

#include <algorithm>
#include <atomic>
#include <nlohmann/json.hpp>
#include <random>
#include <spdlog/spdlog.h>

namespace wallet::daemon {

namespace {

std::string new_request_id() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t prefix = std::random_device{}();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%08llx-%llu", static_cast<unsigned long long>(prefix & 0xffffffffULL),
                static_cast<unsigned long long>(++counter));
  return buffer;
}

std::string lower(std::string text) {
  for (auto& c : text) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return text;
}

// What the pre-routing filter learned, carried to the handler and logger
// of the same request (cpp-httplib runs them on one thread).
struct RequestState {
  std::chrono::steady_clock::time_point started;
  std::string request_id;
  std::string route;
};
thread_local RequestState current;

HttpRequest convert(const httplib::Request& req) {
  HttpRequest r;
  r.method = req.method;
  r.path = req.path;
  r.body = req.body;
  r.request_id = current.request_id;
  for (std::size_t i = 1; i < req.matches.size(); ++i) r.path_params.push_back(req.matches[i].str());
  for (const auto& [k, v] : req.params) r.query.emplace(k, v);
  for (const auto& [k, v] : req.headers) r.headers.emplace(lower(k), v);
  return r;
}

// The header fields the client sent: cpp-httplib adds one REMOTE_ADDR (and
// the like) to the same map, which does not count (but a client's own
// copies do).
std::size_t header_fields_of(const httplib::Request& req) {
  std::size_t fields = req.headers.size();
  for (const char* added : {"REMOTE_ADDR", "REMOTE_PORT", "LOCAL_ADDR", "LOCAL_PORT"}) {
    fields -= std::min<std::size_t>(req.headers.count(added), 1);
  }
  return fields;
}

void apply(const HttpResponse& from, httplib::Response& to) {
  to.status = from.status;
  to.set_content(from.body, from.content_type.c_str());
  for (const auto& [k, v] : from.headers) to.set_header(k.c_str(), v);
}

}  // namespace

std::optional<std::string> HttpRequest::header(const std::string& lower_name) const {
  auto it = headers.find(lower_name);
  if (it == headers.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> HttpRequest::query_param(const std::string& name) const {
  auto it = query.find(name);
  if (it == query.end()) return std::nullopt;
  return it->second;
}

HttpResponse error_response(int status, const std::string& code, const std::string& message) {
  return {status, nlohmann::json{{"error", {{"code", code}, {"message", message}}}}.dump(), "application/json", {}};
}

struct HttpServer::Impl {
  HttpOptions options;
  httplib::Server server;
  std::vector<HttpFilter> filters;
  std::vector<HttpObserver> observers;
  int port = 0;
};

HttpServer::HttpServer(HttpOptions options) : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  auto& svr = impl_->server;
  const int threads = options.threads;
  svr.new_task_queue = [threads] { return new httplib::ThreadPool(static_cast<std::size_t>(threads)); };
  svr.set_payload_max_length(options.body_bytes_max);
  svr.set_read_timeout(options.io_timeout);
  svr.set_write_timeout(options.io_timeout);
  svr.set_keep_alive_timeout(5);
  // cpp-httplib closes a keep-alive connection after 5 requests by default:
  // the client then reconnects every 5 requests (a TCP handshake and a
  // thread hand-off each time; about 5% of throughput in bench/walletd).
  // A connection still holds its worker only while requests keep coming;
  // idle ones close after the keep-alive timeout.
  svr.set_keep_alive_max_count(kKeepAliveRequestsMax);
  // Answers are small and written in pieces: without TCP_NODELAY, Nagle and
  // delayed ACKs add ~40 ms to every request.
  svr.set_tcp_nodelay(true);
  svr.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
    current = {std::chrono::steady_clock::now(), new_request_id(), ""};
    res.set_header("X-Request-Id", current.request_id);
    // cpp-httplib applies body_bytes_max to a body with Content-Length
    // (413 past it) but reads a chunked body whole, whatever its size: so
    // a body must come with its length. This runs before the body is read.
    if (req.has_header("Transfer-Encoding")) {
      apply(error_response(400, "invalid_input",
                           "a request body needs Content-Length (Transfer-Encoding is not accepted)"),
            res);
      res.set_header("Connection", "close");
      return httplib::Server::HandlerResponse::Handled;
    }
    if (header_fields_of(req) > impl_->options.header_fields_max) {
      apply(error_response(400, "invalid_input",
                           "more than " + std::to_string(impl_->options.header_fields_max) + " header fields"),
            res);
      return httplib::Server::HandlerResponse::Handled;
    }
    const HttpRequest request = convert(req);
    for (const auto& f : impl_->filters) {
      if (auto response = f(request)) {
        apply(*response, res);
        return httplib::Server::HandlerResponse::Handled;
      }
    }
    return httplib::Server::HandlerResponse::Unhandled;
  });
  svr.set_error_handler([](const httplib::Request&, httplib::Response& res) {
    if (!res.body.empty()) return;
    std::string code = "error", message = "request failed";
    if (res.status == 404) code = "not_found", message = "no such route";
    if (res.status == 405) code = "method_not_allowed", message = "method not allowed on this route";
    if (res.status == 413) code = "too_large", message = "request body too large";
    if (res.status == 400) {
      code = "invalid_input";
      message = "malformed HTTP request (or a header line longer than " + std::to_string(kLineBytesMax) + " bytes)";
    }
    if (res.status == 414) {
      // Invalid input like any other bound (DESIGN: 400; 413 only for the body).
      res.status = 400;
      code = "invalid_input";
      message = "request line longer than " + std::to_string(kLineBytesMax) + " bytes";
    }
    const auto r = error_response(res.status, code, message);
    res.set_content(r.body, "application/json");
  });
  svr.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - current.started).count();
    const HttpRequest request = convert(req);
    for (const auto& o : impl_->observers) o(request, res.status, current.route, seconds);
  });
}

HttpServer::~HttpServer() = default;

void HttpServer::route(const std::string& method, const std::string& pattern, const std::string& name,
                       HttpHandler handler) {
  auto wrapped = [name, handler = std::move(handler)](const httplib::Request& req, httplib::Response& res) {
    current.route = name;
    HttpResponse response;
    try {
      response = handler(convert(req));
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {}: {}", current.request_id, req.method, req.path, e.what());
      response = error_response(500, "internal", "internal error");
    }
    apply(response, res);
  };
  if (method == "GET") impl_->server.Get(pattern, wrapped);
  else if (method == "POST") impl_->server.Post(pattern, wrapped);
}

void HttpServer::filter(HttpFilter f) { impl_->filters.push_back(std::move(f)); }
void HttpServer::observe(HttpObserver o) { impl_->observers.push_back(std::move(o)); }

bool HttpServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    impl_->port = impl_->server.bind_to_any_port(o.host);
    return impl_->port > 0;
  }
  impl_->port = o.port;
  return impl_->server.bind_to_port(o.host, o.port);
}

int HttpServer::bound_port() const { return impl_->port; }
bool HttpServer::serve() { return impl_->server.listen_after_bind(); }
void HttpServer::stop() { impl_->server.stop(); }

}  // namespace wallet::daemon
