#include "daemon/http.hpp"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include <atomic>
#include <cerrno>
#include <mutex>
#include <nlohmann/json.hpp>
#include <random>
#include <regex>
#include <spdlog/spdlog.h>
#include <thread>
#include <unordered_map>

namespace wallet::daemon {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;

namespace {

// Bytes asked of the socket while a connection waits for a request.
constexpr std::size_t kReadChunk = 4096;
// How long a TLS close_notify exchange may take before the socket closes.
constexpr std::chrono::milliseconds kTlsShutdownTimeout{1'000};
// Pause before accepting again when the process is out of descriptors.
constexpr std::chrono::milliseconds kAcceptBackoff{100};

std::string new_request_id() {
  static std::atomic<uint64_t> counter{0};
  static const uint64_t prefix = std::random_device{}();
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%08llx-%llu", static_cast<unsigned long long>(prefix & 0xffffffffULL),
                static_cast<unsigned long long>(++counter));
  return buffer;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (auto& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// %XX decoded (a malformed escape stays as it was); '+' is a space in a query.
std::string percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%' && i + 2 < text.size()) {
      const int high = hex_value(text[i + 1]), low = hex_value(text[i + 2]);
      if (high >= 0 && low >= 0) {
        out.push_back(static_cast<char>(high * 16 + low));
        i += 2;
        continue;
      }
    }
    out.push_back(plus_is_space && c == '+' ? ' ' : c);
  }
  return out;
}

void parse_query(std::string_view text, std::map<std::string, std::string>& out) {
  while (!text.empty()) {
    const auto amp = text.find('&');
    const std::string_view pair = text.substr(0, amp);
    if (!pair.empty()) {
      const auto eq = pair.find('=');
      out.emplace(percent_decode(pair.substr(0, eq), true),
                  eq == std::string_view::npos ? std::string() : percent_decode(pair.substr(eq + 1), true));
    }
    if (amp == std::string_view::npos) break;
    text.remove_prefix(amp + 1);
  }
}

Result<std::shared_ptr<asio::ssl::context>> load_tls(const HttpOptions& o) {
  auto context = std::make_shared<asio::ssl::context>(asio::ssl::context::tls_server);
  context->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
  boost::system::error_code ec;
  context->use_certificate_chain_file(o.tls_cert, ec);
  if (ec) return Status::Invalid("cannot load [daemon] tls_cert " + o.tls_cert + ": " + ec.message());
  context->use_private_key_file(o.tls_key, asio::ssl::context::pem, ec);
  if (ec) return Status::Invalid("cannot load [daemon] tls_key " + o.tls_key + ": " + ec.message());
  if (SSL_CTX_check_private_key(context->native_handle()) != 1) {
    return Status::Invalid("[daemon] tls_key " + o.tls_key + " does not match the certificate " + o.tls_cert);
  }
  return context;
}

struct Route {
  std::string method;
  std::regex pattern;
  std::string name;
  HttpHandler handler;
  Dispatch dispatch;
};

// What every connection can be asked from another thread.
class Connection {
 public:
  virtual ~Connection() = default;
  // Closes the connection once its request in flight (if any) is answered.
  virtual void drain() = 0;
};

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

struct HttpServer::Impl : std::enable_shared_from_this<HttpServer::Impl> {
  explicit Impl(HttpOptions o)
      : options(std::move(o)), ioc(options.io_threads), handlers(static_cast<std::size_t>(options.threads)) {}

  HttpOptions options;
  asio::io_context ioc;
  // The acceptor is not thread-safe: with several I/O threads, its
  // completions, the back-off timer and stop()'s close all run on one strand.
  tcp::acceptor acceptor{asio::make_strand(ioc)};
  asio::thread_pool handlers;
  std::vector<Route> routes;
  std::vector<HttpFilter> filters;
  std::vector<HttpObserver> observers;
  int port = 0;
  std::atomic<int> open{0};

  std::mutex mutex;  // guards what follows
  bool stopping = false;
  std::shared_ptr<asio::ssl::context> tls;
  std::unordered_map<Connection*, std::weak_ptr<Connection>> connections;

  void accept();
  void on_accept(boost::system::error_code ec, tcp::socket socket);
  void refuse(tcp::socket socket);
  // False when the server is stopping (the connection must not start).
  bool enlist(Connection* c, std::weak_ptr<Connection> weak) {
    std::lock_guard lock(mutex);
    if (stopping) return false;
    connections.emplace(c, std::move(weak));
    return true;
  }
  void delist(Connection* c) {
    std::lock_guard lock(mutex);
    connections.erase(c);
  }
  // The route for a method and path; `path_exists` says whether another
  // method would have matched (405 rather than 404).
  const Route* find(const std::string& method, const std::string& path, std::smatch& match, bool& path_exists) const {
    path_exists = false;
    for (const auto& r : routes) {
      if (!std::regex_match(path, match, r.pattern)) continue;
      if (r.method == method) return &r;
      path_exists = true;
    }
    return nullptr;
  }
};

namespace {

using ServerImpl = HttpServer::Impl;

template <class Stream>
class Session : public Connection, public std::enable_shared_from_this<Session<Stream>> {
 public:
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

  Session(std::shared_ptr<ServerImpl> server, tcp::socket socket, std::shared_ptr<asio::ssl::context> tls)
      : server_(std::move(server)), tls_(std::move(tls)), stream_(make_stream(std::move(socket))) {
    ++server_->open;
    boost::system::error_code ec;
    const auto endpoint = beast::get_lowest_layer(stream_).socket().remote_endpoint(ec);
    if (!ec) remote_ = endpoint.address().to_string();
  }
  ~Session() override {
    server_->delist(this);
    --server_->open;
  }

  void start() {
    if (!server_->enlist(this, this->weak_from_this())) return close();
    if constexpr (kTls) {
      beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return self->close();
                                self->wait_request();
                              });
    } else {
      wait_request();
    }
  }

  void drain() override {
    asio::post(stream_.get_executor(), [self = this->shared_from_this()] {
      self->draining_ = true;
      // A connection between requests (or part way through reading one)
      // closes now; one whose request is being handled closes after its answer.
      if (!self->busy_) beast::get_lowest_layer(self->stream_).cancel();
    });
  }

 private:
  Stream make_stream(tcp::socket socket) {
    if constexpr (kTls) {
      return Stream(beast::tcp_stream(std::move(socket)), *tls_);
    } else {
      return Stream(std::move(socket));
    }
  }

  // Waits up to kKeepAliveIdle for the first byte of the next request.
  void wait_request() {
    if (draining_) return close();
    if (buffer_.size() > 0) return read_header();
    beast::get_lowest_layer(stream_).expires_after(kKeepAliveIdle);
    stream_.async_read_some(buffer_.prepare(kReadChunk),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->read_header();
                            });
  }

  // From the first byte on, the whole request (header and body) must
  // arrive within request_timeout: a deadline, not a per-read timeout.
  void read_header() {
    started_ = std::chrono::steady_clock::now();
    request_ = HttpRequest{};
    request_.request_id = new_request_id();
    request_.remote_address = remote_;
    route_.clear();
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(kHeaderBytesMax));
    parser_->body_limit(server_->options.body_bytes_max);
    beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  void on_header(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    const auto& head = parser_->get();
    request_.method = std::string(head.method_string());
    request_.path = std::string(head.target().substr(0, head.target().find('?')));
    if (auto refusal = check_header(); refusal) return answer(*refusal, true);
    if (parser_->is_done()) return on_body({});
    if (beast::iequals(head[http::field::expect], "100-continue")) {
      static const std::string kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
      asio::async_write(stream_, asio::buffer(kContinue),
                        [self = this->shared_from_this()](beast::error_code e, std::size_t) {
                          if (e) return self->close();
                          self->read_body();
                        });
      return;
    }
    read_body();
  }

  void read_body() {
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) { self->on_body(ec); });
  }

  // The bounds of walletd(8) LIMITS that a parsed header can break.
  std::optional<HttpResponse> check_header() const {
    const auto& head = parser_->get();
    if (parser_->chunked() || head.count(http::field::transfer_encoding) > 0) {
      return error_response(400, "invalid_input", "a request body needs Content-Length (Transfer-Encoding is not accepted)");
    }
    const std::size_t request_line = head.method_string().size() + head.target().size() + 10;
    if (request_line > kLineBytesMax) {
      return error_response(400, "invalid_input", "request line longer than " + std::to_string(kLineBytesMax) + " bytes");
    }
    std::size_t fields = 0;
    for (const auto& field : head) {
      ++fields;
      if (field.name_string().size() + field.value().size() + 2 > kLineBytesMax) {
        return error_response(400, "invalid_input",
                              "header line longer than " + std::to_string(kLineBytesMax) + " bytes");
      }
    }
    if (fields > server_->options.header_fields_max) {
      return error_response(400, "invalid_input",
                            "more than " + std::to_string(server_->options.header_fields_max) + " header fields");
    }
    return std::nullopt;
  }

  void on_read_error(beast::error_code ec) {
    if (ec == http::error::body_limit) {
      return answer(error_response(413, "too_large", "request body too large"), true);
    }
    if (ec == http::error::header_limit) {
      return answer(error_response(400, "invalid_input",
                                   "request header longer than " + std::to_string(kHeaderBytesMax) + " bytes"),
                    true);
    }
    // A malformed request is answered; a timeout, a closed or reset
    // connection (part way through a request too) or a drain is not.
    if (ec.category() == http::make_error_code(http::error::bad_method).category() && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
      return answer(error_response(400, "invalid_input", "malformed HTTP request"), true);
    }
    close();
  }

  void on_body(beast::error_code ec) {
    if (ec) return on_read_error(ec);
    auto message = parser_->release();
    request_.body = std::move(message.body());
    const std::string_view target = message.target();
    const auto question = target.find('?');
    request_.path = percent_decode(target.substr(0, question), false);
    if (question != std::string_view::npos) parse_query(target.substr(question + 1), request_.query);
    for (const auto& field : message) request_.headers.emplace(lower(field.name_string()), std::string(field.value()));
    keep_alive_ = message.keep_alive();
    dispatch();
  }

  void dispatch() {
    for (const auto& f : server_->filters) {
      if (auto response = f(request_)) return answer(*response, false);
    }
    std::smatch match;
    bool path_exists = false;
    const Route* route = server_->find(request_.method, request_.path, match, path_exists);
    if (route == nullptr) {
      return answer(path_exists ? error_response(405, "method_not_allowed", "method not allowed on this route")
                                : error_response(404, "not_found", "no such route"),
                    false);
    }
    route_ = route->name;
    for (std::size_t i = 1; i < match.size(); ++i) request_.path_params.push_back(match[i].str());
    if (route->dispatch == Dispatch::immediate) return answer(run(*route, request_), false);
    busy_ = true;
    // The handler runs on the handler pool; its answer comes back to this
    // connection's strand. The work guard keeps the event loop running
    // (and a drain waiting) until then.
    asio::post(server_->handlers, [self = this->shared_from_this(), route,
                                   work = asio::make_work_guard(stream_.get_executor())]() mutable {
      HttpResponse response = run(*route, self->request_);
      asio::post(self->stream_.get_executor(), [self, response = std::move(response)]() mutable {
        self->answer(response, false);
      });
      work.reset();
    });
  }

  static HttpResponse run(const Route& route, const HttpRequest& request) {
    try {
      return route.handler(request);
    } catch (const std::exception& e) {
      spdlog::error("request {} {} {}: {}", request.request_id, request.method, request.path, e.what());
      return error_response(500, "internal", "internal error");
    }
  }

  // Writes the answer; `close_after` when the rest of the request was not
  // read (or cannot be trusted), so the connection cannot continue.
  void answer(const HttpResponse& from, bool close_after) {
    busy_ = true;
    ++served_;
    close_after_ = close_after || !keep_alive_ || draining_ || served_ >= kKeepAliveRequestsMax;
    status_ = from.status;
    response_.emplace(static_cast<http::status>(from.status), 11);
    response_->set(http::field::content_type, from.content_type);
    response_->set("X-Request-Id", request_.request_id);
    for (const auto& [name, value] : from.headers) response_->insert(name, value);
    response_->body() = from.body;
    response_->keep_alive(!close_after_);
    response_->prepare_payload();
    beast::get_lowest_layer(stream_).expires_after(server_->options.request_timeout);
    http::async_write(stream_, *response_, [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
      self->on_written(ec);
    });
  }

  void on_written(beast::error_code ec) {
    busy_ = false;
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
    for (const auto& o : server_->observers) o(request_, status_, route_, seconds);
    keep_alive_ = true;
    if (ec || close_after_) return close();
    wait_request();
  }

  void close() {
    auto& tcp_layer = beast::get_lowest_layer(stream_);
    if constexpr (kTls) {
      if (!shut_down_ && tcp_layer.socket().is_open()) {
        shut_down_ = true;
        tcp_layer.expires_after(kTlsShutdownTimeout);
        stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) { self->close(); });
        return;
      }
    }
    boost::system::error_code ignored;
    tcp_layer.socket().shutdown(tcp::socket::shutdown_send, ignored);
    tcp_layer.socket().close(ignored);
  }

  std::shared_ptr<ServerImpl> server_;
  std::shared_ptr<asio::ssl::context> tls_;  // keeps the context of a TLS stream alive
  Stream stream_;
  beast::flat_buffer buffer_;
  std::string remote_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::optional<http::response<http::string_body>> response_;
  HttpRequest request_;
  std::string route_;
  std::chrono::steady_clock::time_point started_;
  std::size_t served_ = 0;
  int status_ = 0;
  bool keep_alive_ = true;
  bool close_after_ = false;
  bool busy_ = false;  // a request is being handled or answered
  bool draining_ = false;
  bool shut_down_ = false;
};

}  // namespace

void HttpServer::Impl::accept() {
  acceptor.async_accept(asio::make_strand(ioc), [self = shared_from_this()](boost::system::error_code ec,
                                                                          tcp::socket socket) {
    self->on_accept(ec, std::move(socket));
  });
}

void HttpServer::Impl::on_accept(boost::system::error_code ec, tcp::socket socket) {
  if (!acceptor.is_open()) return;
  if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
    // Out of descriptors: accepting again at once would spin.
    auto timer = std::make_shared<asio::steady_timer>(acceptor.get_executor(), kAcceptBackoff);
    timer->async_wait([self = shared_from_this(), timer](boost::system::error_code) {
      if (self->acceptor.is_open()) self->accept();
    });
    return;
  }
  accept();
  if (ec) return;
  if (open.load() >= options.connections_max) return refuse(std::move(socket));
  boost::system::error_code ignored;
  socket.set_option(tcp::no_delay(true), ignored);  // small answers: no Nagle delay
  std::shared_ptr<asio::ssl::context> context;
  {
    std::lock_guard lock(mutex);
    context = tls;
  }
  if (context) {
    std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared_from_this(), std::move(socket), context)
        ->start();
  } else {
    std::make_shared<Session<beast::tcp_stream>>(shared_from_this(), std::move(socket), nullptr)->start();
  }
}

// One connection past connections_max: a plain-HTTP client gets a 503 it
// can act on (Retry-After) before the close; a TLS client only the close.
void HttpServer::Impl::refuse(tcp::socket socket) {
  auto held = std::make_shared<tcp::socket>(std::move(socket));
  bool plain = false;
  {
    std::lock_guard lock(mutex);
    plain = tls == nullptr;
  }
  if (!plain) return;
  const std::string body =
      error_response(503, "unavailable",
                     "too many open connections ([daemon] connections_max " +
                         std::to_string(options.connections_max) + ")")
          .body;
  auto text = std::make_shared<std::string>(
      "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json\r\nRetry-After: 1\r\n"
      "Connection: close\r\nContent-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body);
  asio::async_write(*held, asio::buffer(*text), [held, text](boost::system::error_code, std::size_t) {
    boost::system::error_code ignored;
    held->shutdown(tcp::socket::shutdown_send, ignored);
    held->close(ignored);
  });
}

HttpServer::HttpServer(HttpOptions options) : impl_(std::make_shared<Impl>(std::move(options))) {}

HttpServer::~HttpServer() {
  impl_->handlers.join();
}

void HttpServer::route(const std::string& method, const std::string& pattern, const std::string& name,
                       HttpHandler handler, Dispatch dispatch) {
  impl_->routes.push_back({method, std::regex(pattern), name, std::move(handler), dispatch});
}

void HttpServer::filter(HttpFilter f) { impl_->filters.push_back(std::move(f)); }
void HttpServer::observe(HttpObserver o) { impl_->observers.push_back(std::move(o)); }

Status HttpServer::bind() {
  auto& o = impl_->options;
  boost::system::error_code ec;
  const auto address = asio::ip::make_address(o.host, ec);
  if (ec) return Status::Invalid("cannot listen on " + o.host + ": not an IP address");
  const tcp::endpoint endpoint(address, static_cast<unsigned short>(o.port));
  auto& acceptor = impl_->acceptor;
  const auto failed = [&] {
    return Status::Invalid("cannot listen on " + o.host + ":" + std::to_string(o.port) + ": " + ec.message());
  };
  acceptor.open(endpoint.protocol(), ec);
  if (ec) return failed();
  acceptor.set_option(tcp::acceptor::reuse_address(true), ec);
  if (ec) return failed();
  acceptor.bind(endpoint, ec);
  if (ec) return failed();
  acceptor.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) return failed();
  impl_->port = acceptor.local_endpoint().port();
  return Status::Ok();
}

int HttpServer::bound_port() const { return impl_->port; }

bool HttpServer::tls() const {
  std::lock_guard lock(impl_->mutex);
  return impl_->tls != nullptr;
}

Status HttpServer::reload_tls() {
  const auto& o = impl_->options;
  if (o.tls_cert.empty() || o.tls_key.empty()) {
    return o.tls_cert.empty() && o.tls_key.empty() ? Status::Ok()
                                                   : Status::Invalid("[daemon] tls_cert and tls_key go together");
  }
  auto context = load_tls(o);
  if (!context.ok()) return context.status();
  std::lock_guard lock(impl_->mutex);
  impl_->tls = std::move(*context);
  return Status::Ok();
}

void HttpServer::serve() {
  impl_->accept();
  std::vector<std::thread> extra;
  for (int i = 1; i < impl_->options.io_threads; ++i) extra.emplace_back([this] { impl_->ioc.run(); });
  impl_->ioc.run();
  for (auto& t : extra) t.join();
  impl_->handlers.join();
}

void HttpServer::stop() {
  std::vector<std::weak_ptr<Connection>> open;
  {
    std::lock_guard lock(impl_->mutex);
    impl_->stopping = true;
    for (const auto& [unused, weak] : impl_->connections) open.push_back(weak);
  }
  asio::post(impl_->acceptor.get_executor(), [impl = impl_] {
    boost::system::error_code ignored;
    impl->acceptor.close(ignored);
  });
  for (const auto& weak : open) {
    if (auto c = weak.lock()) c->drain();
  }
}

int HttpServer::connections() const { return impl_->open.load(); }

}  // namespace wallet::daemon
