#include "remote/session.h"

#include <libssh/libssh.h>
#include <libssh/sftp.h>

#include <thread>
#include <utility>

#include "common/log.h"
#include "remote/libssh_util.h"

namespace hivemind::remote {
namespace {

// Host key algorithms in a fixed order, so that a host offering several keys
// always shows the same one and its recorded fingerprint stays comparable.
constexpr const char* kHostKeyAlgorithms =
    "ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521,rsa-sha2-512,rsa-sha2-256";

struct SessionDeleter {
  void operator()(ssh_session session) const {
    if (ssh_is_connected(session)) ssh_disconnect(session);
    ssh_free(session);
  }
};
using SessionHandle = std::unique_ptr<ssh_session_struct, SessionDeleter>;

// A failed attempt, and whether another attempt could succeed.
struct AttemptFailure {
  Error error;
  bool retryable = false;
};

std::string describe_target(const ConnectOptions& options) {
  return options.user + "@" + options.host + ":" + std::to_string(options.port);
}

Status set_options(ssh_session session, const ConnectOptions& options) {
  long seconds = static_cast<long>(options.connect_timeout.count() / 1000);
  long microseconds = static_cast<long>((options.connect_timeout.count() % 1000) * 1000);
  bool process_config = false;
  unsigned int port = static_cast<unsigned int>(options.port);

  // Known-hosts files are not read: the caller's recorded fingerprint is the
  // only trust anchor, and ~/.ssh/config must not redirect the connection.
  bool ok = ssh_options_set(session, SSH_OPTIONS_HOST, options.host.c_str()) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_PORT, &port) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_USER, options.user.c_str()) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_TIMEOUT, &seconds) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_TIMEOUT_USEC, &microseconds) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_PROCESS_CONFIG, &process_config) == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_KNOWNHOSTS, "/dev/null") == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS, "/dev/null") == SSH_OK &&
            ssh_options_set(session, SSH_OPTIONS_HOSTKEYS, kHostKeyAlgorithms) == SSH_OK;
  if (!ok) {
    return fail(make_error("remote.invalid_options",
                           "Invalid SSH options for " + describe_target(options) + ": " + ssh_get_error(session) + ".",
                           "Check the host name, port and user."));
  }
  return ok_unit();
}

Result<std::string> server_fingerprint(ssh_session session) {
  ssh_key raw = nullptr;
  if (ssh_get_server_publickey(session, &raw) != SSH_OK) {
    return fail(make_error("remote.host_key_failed", "The SSH server sent no usable host key."));
  }
  KeyHandle key(raw);
  return sha256_fingerprint(key.get());
}

Error host_key_changed(const ConnectOptions& options, const std::string& seen) {
  return make_error("remote.host_key_changed",
                    "The SSH host key of " + options.host + ":" + std::to_string(options.port) + " changed: expected " +
                        *options.expected_host_key_fingerprint + ", got " + seen +
                        ". The connection was closed before authentication.",
                    "If this host was replaced or its host key regenerated on purpose, remove the recorded "
                    "fingerprint from the deployment's state so that the next connection records the new one; "
                    "otherwise treat it as a possible man-in-the-middle and do not deploy to it.");
}

Status authenticate(ssh_session session, const ConnectOptions& options) {
  auto key = import_private_key(options.private_key_file);
  if (!key) return fail(key.error());

  int outcome = ssh_userauth_publickey(session, nullptr, key->get());
  if (outcome == SSH_AUTH_SUCCESS) return ok_unit();

  std::string detail = outcome == SSH_AUTH_ERROR ? std::string(": ") + ssh_get_error(session) : std::string();
  return fail(make_error("remote.auth_failed",
                         "The SSH server " + describe_target(options) + " rejected the key " +
                             options.private_key_file.string() + detail + ".",
                         "Check the user name (for example ec2-user on Amazon Linux, ubuntu on Ubuntu) and that "
                         "the instance was launched with the key pair whose private key this is."));
}

// Makes one connection attempt. On success the returned handle is connected,
// verified and authenticated.
Result<std::pair<SessionHandle, std::string>, AttemptFailure> attempt_connect(const ConnectOptions& options) {
  SessionHandle session(ssh_new());
  if (!session)
    return fail(AttemptFailure{make_error("remote.connect_failed", "libssh could not allocate a session.")});

  if (Status set = set_options(session.get(), options); !set) return fail(AttemptFailure{set.error()});

  if (ssh_connect(session.get()) != SSH_OK) {
    Error error =
        make_error("remote.connect_failed",
                   "Could not connect to " + describe_target(options) + ": " + ssh_get_error(session.get()) + ".",
                   "Check that the host is running, that its security group allows SSH from this address, "
                   "and raise the connect attempts if it is still booting.");
    return fail(AttemptFailure{std::move(error), true});
  }

  auto fingerprint = server_fingerprint(session.get());
  if (!fingerprint) return fail(AttemptFailure{fingerprint.error()});
  if (options.expected_host_key_fingerprint && *options.expected_host_key_fingerprint != *fingerprint) {
    return fail(AttemptFailure{host_key_changed(options, *fingerprint)});
  }

  // NOTE: on a new EC2 instance sshd can start before cloud-init installs the
  // key. A rejected key right after boot may then be transient, but it is not
  // retried.
  if (Status auth = authenticate(session.get(), options); !auth) return fail(AttemptFailure{auth.error()});
  return std::make_pair(std::move(session), std::move(*fingerprint));
}

}  // namespace

Result<Session> Session::connect(const ConnectOptions& options) {
  auto logger = log::get("deployer");
  std::string target = describe_target(options);
  int attempts = options.connect_attempts < 1 ? 1 : options.connect_attempts;

  for (int attempt = 1;; ++attempt) {
    auto connected = attempt_connect(options);
    if (connected) {
      auto& [handle, fingerprint] = *connected;
      bool first_use = !options.expected_host_key_fingerprint;
      logger->info("ssh connected to {} (host key {}{}, attempt {})", target, fingerprint,
                   first_use ? ", recorded on first use" : ", matches the recorded one", attempt);
      return Session(handle.release(), target, fingerprint);
    }

    AttemptFailure failure = std::move(connected).error();
    if (!failure.retryable || attempt >= attempts) {
      logger->error("ssh connection to {} failed after {} attempt(s): {}", target, attempt, failure.error.message);
      return fail(std::move(failure.error));
    }

    logger->warn("ssh connection to {} failed (attempt {} of {}), retrying in {} ms: {}", target, attempt, attempts,
                 options.retry_delay.count(), failure.error.message);
    if (options.on_retry) options.on_retry(attempt, failure.error);
    std::this_thread::sleep_for(options.retry_delay);
  }
}

Session::Session(ssh_session_struct* session, std::string target, std::string fingerprint)
    : session_(session), target_(std::move(target)), host_key_fingerprint_(std::move(fingerprint)) {}

Session::Session(Session&& other) noexcept
    : session_(std::exchange(other.session_, nullptr)),
      sftp_(std::exchange(other.sftp_, nullptr)),
      target_(std::move(other.target_)),
      host_key_fingerprint_(std::move(other.host_key_fingerprint_)) {}

Session& Session::operator=(Session&& other) noexcept {
  if (this != &other) {
    close();
    session_ = std::exchange(other.session_, nullptr);
    sftp_ = std::exchange(other.sftp_, nullptr);
    target_ = std::move(other.target_);
    host_key_fingerprint_ = std::move(other.host_key_fingerprint_);
  }
  return *this;
}

Session::~Session() { close(); }

void Session::close() {
  if (sftp_ != nullptr) sftp_free(std::exchange(sftp_, nullptr));
  if (session_ != nullptr) SessionDeleter{}(std::exchange(session_, nullptr));
}

}  // namespace hivemind::remote
