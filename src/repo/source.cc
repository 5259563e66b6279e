#include "repo/source.h"

#include <git2.h>
#include <unistd.h>

#include <cstdlib>
#include <memory>
#include <mutex>
#include <system_error>

#include "common/digest.h"
#include "common/log.h"
#include "common/process.h"
#include "common/strings.h"

namespace hivemind::repo {
namespace {

namespace fs = std::filesystem;

template <typename T, void (*Free)(T*)>
struct GitDeleter {
  void operator()(T* object) const { Free(object); }
};
using RepositoryPtr = std::unique_ptr<git_repository, GitDeleter<git_repository, git_repository_free>>;
using ObjectPtr = std::unique_ptr<git_object, GitDeleter<git_object, git_object_free>>;
using ReferencePtr = std::unique_ptr<git_reference, GitDeleter<git_reference, git_reference_free>>;
using RemotePtr = std::unique_ptr<git_remote, GitDeleter<git_remote, git_remote_free>>;
using StatusListPtr = std::unique_ptr<git_status_list, GitDeleter<git_status_list, git_status_list_free>>;

void init_libgit2() {
  static std::once_flag once;
  std::call_once(once, [] { git_libgit2_init(); });
}

std::string last_git_message() {
  const git_error* error = git_error_last();
  return error != nullptr && error->message != nullptr ? error->message : "unknown libgit2 error";
}

std::string oid_hex(const git_oid* oid) {
  char text[GIT_OID_HEXSZ + 1];
  git_oid_tostr(text, sizeof(text), oid);
  return text;
}

bool is_url(const std::string& location) {
  for (const char* scheme : {"https://", "http://", "ssh://", "git://", "file://"}) {
    if (starts_with(location, scheme)) return true;
  }
  // The scp-like SSH form: user@host:path, with no '/' before the ':'.
  size_t at = location.find('@');
  size_t colon = location.find(':');
  size_t slash = location.find('/');
  return at != std::string::npos && colon != std::string::npos && at < colon &&
         (slash == std::string::npos || colon < slash);
}

// ---- Credentials ---------------------------------------------------------

// State of one fetch's credential callback, so that rejected credentials are
// not offered again in an endless loop.
struct CredentialState {
  bool requested = false;  // the remote asked for credentials
  bool agent_tried = false;
  bool helper_tried = false;
};

// Asks the user's Git credential helpers (`git credential fill`) for a
// username and password for `url`. Never prompts on the terminal.
bool fill_from_credential_helper(const std::string& url, std::string& username, std::string& password) {
  ProcessOptions options;
  options.environment = {{"GIT_TERMINAL_PROMPT", "0"}, {"GIT_ASKPASS", ""}, {"SSH_ASKPASS", ""}};
  for (const char* name : {"PATH", "HOME", "XDG_CONFIG_HOME", "GIT_CONFIG_GLOBAL"}) {
    if (const char* value = std::getenv(name)) options.environment[name] = value;
  }
  options.timeout = std::chrono::seconds(30);
  options.input = "url=" + url + "\n\n";
  Result<ProcessResult> result = run_process({"git", "credential", "fill"}, options);
  if (!result || !result->succeeded()) return false;

  for (const std::string& line : split(result->output, '\n')) {
    if (starts_with(line, "username=")) username = line.substr(9);
    if (starts_with(line, "password=")) password = line.substr(9);
  }
  return !password.empty();
}

int provide_credentials(git_credential** out, const char* url, const char* username_from_url, unsigned int allowed,
                        void* payload) {
  auto* state = static_cast<CredentialState*>(payload);
  state->requested = true;
  std::string user = username_from_url != nullptr ? username_from_url : "git";

  if ((allowed & GIT_CREDENTIAL_USERNAME) != 0) return git_credential_username_new(out, user.c_str());
  if ((allowed & GIT_CREDENTIAL_SSH_KEY) != 0 && !state->agent_tried && std::getenv("SSH_AUTH_SOCK") != nullptr) {
    state->agent_tried = true;
    return git_credential_ssh_key_from_agent(out, user.c_str());
  }
  if ((allowed & GIT_CREDENTIAL_USERPASS_PLAINTEXT) != 0 && !state->helper_tried) {
    state->helper_tried = true;
    std::string helper_user = username_from_url != nullptr ? username_from_url : "";
    std::string password;
    if (fill_from_credential_helper(url, helper_user, password)) {
      return git_credential_userpass_plaintext_new(out, helper_user.c_str(), password.c_str());
    }
  }
  return GIT_PASSTHROUGH;
}

git_remote_callbacks remote_callbacks(CredentialState& state) {
  git_remote_callbacks callbacks;
  git_remote_init_callbacks(&callbacks, GIT_REMOTE_CALLBACKS_VERSION);
  callbacks.credentials = provide_credentials;
  callbacks.payload = &state;
  return callbacks;
}

// Turns a failed clone or fetch into an error the user can act on.
Error transfer_error(int code, const std::string& url, const CredentialState& credentials) {
  std::string detail = last_git_message();
  log::get("source")->warn("transfer from {} failed: {} (code {})", url, detail, code);

  bool auth = code == GIT_EAUTH || credentials.requested || detail.find("401") != std::string::npos ||
              detail.find("authentication") != std::string::npos;
  if (auth) {
    return make_error("source.auth_required", "Repository " + url + " requires authentication: " + detail + ".",
                      "For an ssh:// or git@ URL, load a key into an SSH agent (ssh-add) and set SSH_AUTH_SOCK; "
                      "for an https:// URL, configure a Git credential helper (git config --global "
                      "credential.helper store, then run `git credential approve`), which HiveMind asks.");
  }
  return make_error("source.unreachable", "Could not fetch " + url + ": " + detail + ".",
                    "Check the URL and that the host is reachable from this machine (try: git ls-remote " + url + ").");
}

// ---- Clones in the state folder's cache ------------------------------------

fs::path cache_folder(const std::string& url, const fs::path& state_dir) {
  return state_dir / "repos" / sha256_hex_of(url).substr(0, 16);
}

git_fetch_options fetch_options(CredentialState& state) {
  git_fetch_options options;
  git_fetch_options_init(&options, GIT_FETCH_OPTIONS_VERSION);
  options.callbacks = remote_callbacks(state);
  options.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_ALL;
  options.prune = GIT_FETCH_PRUNE;
  return options;
}

Result<RepositoryPtr> fetch_existing(const fs::path& folder, const std::string& url) {
  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, folder.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return fail(make_error("source.cache_invalid", "Cached clone " + folder.string() + " cannot be opened."));
  }
  RepositoryPtr repository(raw);

  git_remote* remote_raw = nullptr;
  if (git_remote_lookup(&remote_raw, repository.get(), "origin") != 0) {
    return fail(make_error("source.cache_invalid", "Cached clone " + folder.string() + " has no origin remote."));
  }
  RemotePtr remote(remote_raw);

  CredentialState credentials;
  git_fetch_options options = fetch_options(credentials);
  int code = git_remote_fetch(remote.get(), nullptr, &options, "hivemind fetch");
  if (code != 0) return fail(transfer_error(code, url, credentials));
  log::get("source")->info("fetched {} into {}", url, folder.string());
  return repository;
}

Result<RepositoryPtr> clone_fresh(const fs::path& folder, const std::string& url) {
  // Clones beside the final folder and renames, so that an interrupted
  // clone never looks like a valid cache entry.
  fs::path partial = folder;
  partial += ".partial-" + std::to_string(getpid());
  std::error_code ignored;
  fs::remove_all(partial, ignored);
  fs::create_directories(folder.parent_path(), ignored);

  CredentialState credentials;
  git_clone_options options;
  git_clone_options_init(&options, GIT_CLONE_OPTIONS_VERSION);
  options.fetch_opts = fetch_options(credentials);
  options.checkout_opts.checkout_strategy = GIT_CHECKOUT_NONE;

  git_repository* raw = nullptr;
  int code = git_clone(&raw, url.c_str(), partial.c_str(), &options);
  if (code != 0) {
    Error error = transfer_error(code, url, credentials);
    fs::remove_all(partial, ignored);
    return fail(error);
  }
  git_repository_free(raw);

  std::error_code rename_error;
  fs::rename(partial, folder, rename_error);
  if (rename_error) {
    fs::remove_all(partial, ignored);
    return fail(make_error("source.cache_write",
                           "Could not move the clone into " + folder.string() + ": " + rename_error.message() + "."));
  }
  log::get("source")->info("cloned {} into {}", url, folder.string());

  if (git_repository_open_ext(&raw, folder.c_str(), GIT_REPOSITORY_OPEN_NO_SEARCH, nullptr) != 0) {
    return fail(make_error("source.cache_invalid",
                           "Fresh clone " + folder.string() + " cannot be opened: " + last_git_message() + "."));
  }
  return RepositoryPtr(raw);
}

Result<RepositoryPtr> clone_or_fetch(const std::string& url, const fs::path& state_dir) {
  fs::path folder = cache_folder(url, state_dir);
  if (fs::exists(folder / ".git")) {
    Result<RepositoryPtr> fetched = fetch_existing(folder, url);
    if (fetched || fetched.error().code != "source.cache_invalid") return fetched;
    log::get("source")->warn("{}; cloning again", fetched.error().message);
  }
  std::error_code ignored;
  fs::remove_all(folder, ignored);
  return clone_fresh(folder, url);
}

// ---- Refs and checkout -----------------------------------------------------

// Finds `ref` as a branch of origin, then a tag, then any revision such as a
// full or abbreviated commit hash. An empty ref is the remote's default branch.
ObjectPtr find_commit(git_repository* repository, const std::string& ref) {
  std::vector<std::string> candidates;
  if (ref.empty()) {
    candidates = {"refs/remotes/origin/HEAD", "HEAD"};
  } else {
    candidates = {"refs/remotes/origin/" + ref, "refs/tags/" + ref, ref};
  }
  for (const std::string& candidate : candidates) {
    git_object* object = nullptr;
    if (git_revparse_single(&object, repository, candidate.c_str()) != 0) continue;
    ObjectPtr resolved(object);
    git_object* commit = nullptr;
    if (git_object_peel(&commit, resolved.get(), GIT_OBJECT_COMMIT) == 0) return ObjectPtr(commit);
  }
  return nullptr;
}

Result<std::string> check_out(git_repository* repository, const std::string& ref, const std::string& location) {
  if (git_repository_is_empty(repository) == 1) {
    return fail(make_error("source.empty_repository", "Repository " + location + " has no commits.",
                           "Commit the application's files and push them, then run again."));
  }
  ObjectPtr commit = find_commit(repository, ref);
  if (!commit) {
    return fail(make_error("source.unknown_ref",
                           "Ref '" + ref + "' was not found in " + location + ": it is not a branch, tag or commit.",
                           "List the branches and tags with: git ls-remote " + location));
  }

  git_checkout_options options;
  git_checkout_options_init(&options, GIT_CHECKOUT_OPTIONS_VERSION);
  options.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_REMOVE_UNTRACKED;
  const git_oid* oid = git_object_id(commit.get());
  if (git_checkout_tree(repository, commit.get(), &options) != 0 ||
      git_repository_set_head_detached(repository, oid) != 0) {
    return fail(make_error("source.checkout_failed", "Checking out " + oid_hex(oid) + " of " + location +
                                                         " failed: " + last_git_message() + "."));
  }
  return oid_hex(oid);
}

Result<SourceTree> open_url(const std::string& location, const std::string& url, const SourceOptions& options) {
  if (options.state_dir.empty()) {
    return fail(
        make_error("source.no_state_dir", "A state folder is needed to clone " + location + ".", "Pass --state-dir."));
  }
  Result<RepositoryPtr> repository = clone_or_fetch(url, options.state_dir);
  if (!repository) return fail(repository.error());

  Result<std::string> commit = check_out(repository->get(), options.ref, location);
  if (!commit) return fail(commit.error());
  log::get("source")->info("{} at {} is {}", location, options.ref.empty() ? "HEAD" : options.ref, *commit);
  return SourceTree{location, git_repository_workdir(repository->get()), *commit, false};
}

// ---- Local folders and working copies --------------------------------------

Result<bool> has_uncommitted_changes(git_repository* repository, const fs::path& folder) {
  git_status_options options;
  git_status_options_init(&options, GIT_STATUS_OPTIONS_VERSION);
  options.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
  options.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;

  // Limits the check to `folder` when it is a subfolder of the working copy.
  fs::path workdir = fs::canonical(git_repository_workdir(repository));
  std::string relative = fs::relative(folder, workdir).generic_string();
  std::string pathspec = relative + "/";
  char* pathspec_items[] = {pathspec.data()};
  if (!relative.empty() && relative != ".") options.pathspec = {pathspec_items, 1};

  git_status_list* raw = nullptr;
  if (git_status_list_new(&raw, repository, &options) != 0) {
    return fail(make_error("source.status_failed",
                           "Reading the Git status of " + folder.string() + " failed: " + last_git_message() + "."));
  }
  StatusListPtr list(raw);
  return git_status_list_entrycount(list.get()) > 0;
}

Result<SourceTree> open_working_copy(const std::string& location, const fs::path& folder, git_repository* repository) {
  if (git_repository_head_unborn(repository) == 1) {
    return fail(make_error("source.empty_repository", "Git repository " + folder.string() + " has no commits.",
                           "Commit the application's files (git add -A && git commit), then run again."));
  }
  git_oid head{};
  if (git_reference_name_to_id(&head, repository, "HEAD") != 0) {
    return fail(
        make_error("source.git_failed", "Reading HEAD of " + folder.string() + " failed: " + last_git_message() + "."));
  }
  Result<bool> dirty = has_uncommitted_changes(repository, folder);
  if (!dirty) return fail(dirty.error());
  return SourceTree{location, folder, oid_hex(&head), *dirty};
}

Result<fs::path> check_folder(const std::string& location) {
  std::error_code error;
  fs::file_status status = fs::status(location, error);
  if (!fs::exists(status)) {
    return fail(make_error("source.not_found", "Source " + location + " does not exist.",
                           "Check the path, or pass a Git URL (https://, ssh:// or file://)."));
  }
  if (!fs::is_directory(status)) {
    return fail(make_error("source.not_a_folder", "Source " + location + " is not a folder.",
                           "Pass the application's folder or its Git repository."));
  }
  return fs::canonical(location);
}

}  // namespace

Result<SourceTree> open_source(const std::string& location, const SourceOptions& options) {
  init_libgit2();
  if (is_url(location)) return open_url(location, location, options);

  Result<fs::path> folder = check_folder(location);
  if (!folder) return fail(folder.error());

  git_repository* raw = nullptr;
  if (git_repository_open_ext(&raw, folder->c_str(), 0, nullptr) != 0) {
    if (!options.ref.empty()) {
      return fail(make_error("source.ref_without_git",
                             "--ref " + options.ref + " was given, but " + location + " is not a Git repository.",
                             "Drop --ref to build the folder as it is, or pass a Git repository."));
    }
    log::get("source")->info("{} is a plain folder", folder->string());
    return SourceTree{location, *folder, "", false};
  }
  RepositoryPtr repository(raw);

  // Another ref than the working copy's is checked out from a clone in the
  // cache, so that the user's working copy is never touched.
  if (!options.ref.empty()) {
    fs::path workdir = fs::canonical(git_repository_workdir(repository.get()));
    Result<SourceTree> tree = open_url(location, workdir.string(), options);
    if (tree) tree->root = (tree->root / fs::relative(*folder, workdir)).lexically_normal();
    return tree;
  }
  return open_working_copy(location, *folder, repository.get());
}

}  // namespace hivemind::repo
