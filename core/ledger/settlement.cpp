#include "core/ledger/settlement.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/domain/validate.hpp"

namespace wallet {

namespace {

using Clock = std::chrono::steady_clock;

int remaining_ms(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left < 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1000));
}

void close_quietly(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

// Child side of fork(): wire the pipes and exec the shell with `envp`
// (built before fork: nothing here allocates). Never returns.
[[noreturn]] void exec_child(const std::string& command, char* const* envp, int input_read, int output_write) {
  ::setpgid(0, 0);
  ::dup2(input_read, STDIN_FILENO);
  ::dup2(output_write, STDOUT_FILENO);
  ::dup2(output_write, STDERR_FILENO);
  const char* const argv[] = {"sh", "-c", command.c_str(), nullptr};
  ::execve("/bin/sh", const_cast<char* const*>(argv), envp);
  ::_exit(127);
}

}  // namespace

std::vector<std::string> settlement_environment(const std::map<std::string, std::string>& configured,
                                                const std::function<const char*(const char*)>& lookup) {
  std::vector<std::string> environment;
  for (const char* name : kSettlementInheritedVariables) {
    const char* value = lookup(name);
    if (value != nullptr && configured.count(name) == 0) environment.push_back(std::string(name) + "=" + value);
  }
  for (const auto& [name, value] : configured) environment.push_back(name + "=" + value);
  return environment;
}

Result<CommandRun> run_command(const std::string& command, const std::string& input, Milliseconds timeout,
                               const std::vector<std::string>& environment) {
  std::vector<char*> envp;
  envp.reserve(environment.size() + 1);
  for (const std::string& entry : environment) envp.push_back(const_cast<char*>(entry.c_str()));
  envp.push_back(nullptr);
  int input_pipe[2];
  int output_pipe[2];
  if (::pipe2(input_pipe, O_CLOEXEC) != 0) return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  if (::pipe2(output_pipe, O_CLOEXEC) != 0) {
    ::close(input_pipe[0]);
    ::close(input_pipe[1]);
    return Status::Internal(std::string("pipe: ") + std::strerror(errno));
  }
  const pid_t pid = ::fork();
  if (pid < 0) return Status::Internal(std::string("fork: ") + std::strerror(errno));
  if (pid == 0) exec_child(command, envp.data(), input_pipe[0], output_pipe[1]);
  ::setpgid(pid, pid);  // also in the parent, so kill(-pid) works whoever runs first
  ::close(input_pipe[0]);
  ::close(output_pipe[1]);
  int to_child = input_pipe[1];
  int from_child = output_pipe[0];

  // The input is small (one transaction); a command that exits without
  // reading it must not kill us with SIGPIPE.
  struct sigaction ignore {}, previous {};
  ignore.sa_handler = SIG_IGN;
  ::sigaction(SIGPIPE, &ignore, &previous);
  std::size_t written = 0;
  while (written < input.size()) {
    const ssize_t n = ::write(to_child, input.data() + written, input.size() - written);
    if (n <= 0 && errno != EINTR) break;
    if (n > 0) written += static_cast<std::size_t>(n);
  }
  close_quietly(to_child);
  ::sigaction(SIGPIPE, &previous, nullptr);

  CommandRun run;
  const auto deadline = Clock::now() + timeout;
  int status = 0;
  bool exited = false;
  while (!exited) {
    if (Clock::now() >= deadline) {
      run.timed_out = true;
      ::kill(-pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      break;
    }
    if (from_child >= 0) {
      pollfd fd{from_child, POLLIN, 0};
      if (::poll(&fd, 1, remaining_ms(deadline)) > 0) {
        char buffer[4096];
        const ssize_t n = ::read(from_child, buffer, sizeof buffer);
        if (n > 0) {
          const std::size_t room = kCommandOutputMax - std::min(kCommandOutputMax, run.output.size());
          run.output.append(buffer, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
        } else if (n == 0 || errno != EINTR) {
          close_quietly(from_child);
        }
      }
    } else {
      ::usleep(10'000);  // output closed; the process may still be finishing
    }
    if (::waitpid(pid, &status, WNOHANG) == pid) {
      exited = true;
      // Collect what it wrote just before exiting.
      if (from_child >= 0) {
        ::fcntl(from_child, F_SETFL, O_NONBLOCK);
        char buffer[4096];
        ssize_t n = 0;
        while ((n = ::read(from_child, buffer, sizeof buffer)) > 0) {
          const std::size_t room = kCommandOutputMax - std::min(kCommandOutputMax, run.output.size());
          run.output.append(buffer, std::min<std::size_t>(room, static_cast<std::size_t>(n)));
        }
      }
    }
  }
  close_quietly(from_child);
  // Whatever the shell started and left behind goes too.
  ::kill(-pid, SIGKILL);
  if (!run.timed_out) {
    if (WIFEXITED(status)) run.exit_status = WEXITSTATUS(status);
    if (WIFSIGNALED(status)) run.signal = WTERMSIG(status);
  }
  while (!run.output.empty() && (run.output.back() == '\n' || run.output.back() == '\r')) run.output.pop_back();
  return run;
}

namespace {

// The reference a confirming command printed: the last line of its output
// that is a JSON object whose "reference" is a valid reference. Other
// lines (logs on stderr, a malformed answer) are ignored: the payout is
// confirmed by the exit status, the reference is only a label.
std::string reference_in(const std::string& output) {
  std::string found;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    const auto json = nlohmann::json::parse(line, nullptr, false);
    if (json.is_discarded() || !json.is_object()) continue;
    const auto it = json.find("reference");
    if (it == json.end() || !it->is_string()) continue;
    const std::string reference = it->get<std::string>();
    if (!reference.empty() && validate_reference(reference).ok()) found = reference;
  }
  return found;
}

}  // namespace

SettlementOutcome classify(const CommandRun& run) {
  const std::string said = run.output.empty() ? "" : ": " + run.output;
  if (run.timed_out) return {SettlementDecision::retry, "settlement command timed out" + said, ""};
  if (run.signal != 0) {
    return {SettlementDecision::retry, "settlement command killed by signal " + std::to_string(run.signal) + said, ""};
  }
  if (run.exit_status == 0) return {SettlementDecision::confirmed, run.output, reference_in(run.output)};
  if (run.exit_status == 75) return {SettlementDecision::retry, "settlement command asked to retry (exit 75)" + said, ""};
  if (run.exit_status == 126 || run.exit_status == 127) {
    // The shell could not run it: a configuration problem, not an answer.
    return {SettlementDecision::retry,
            "settlement command could not be run (exit " + std::to_string(run.exit_status) + ")" + said, ""};
  }
  return {SettlementDecision::rejected,
          "settlement rejected (exit " + std::to_string(run.exit_status) + ")" + said, ""};
}

Milliseconds settlement_backoff(int attempts, std::mt19937_64& random) {
  int64_t delay = kSettlementBackoffFirst.count();
  for (int i = 1; i < attempts && delay < kSettlementBackoffMax.count(); ++i) delay *= 2;
  delay = std::min<int64_t>(delay, kSettlementBackoffMax.count());
  std::uniform_int_distribution<int64_t> jitter(delay / 2, delay);
  return Milliseconds{jitter(random)};
}

}  // namespace wallet
