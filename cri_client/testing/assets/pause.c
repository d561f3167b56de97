/*
 * pause: PID 1 of every pod sandbox started by cri_client.testing.
 *
 * It holds the pod's namespaces open and does nothing else:
 *   - sleeps in pause() forever;
 *   - reaps any child that gets reparented to it (SIGCHLD), so a pod that
 *     shares its PID namespace does not fill up with zombies;
 *   - exits 0 on SIGTERM or SIGINT, which is how StopPodSandbox ends it.
 * This is the contract of Kubernetes' own pause image; it is built here with
 * `gcc -static -Os -s` so the test image needs no download.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void on_stop(int signo) {
  (void)signo;
  _exit(0);
}

static void on_child(int signo) {
  (void)signo;
  while (waitpid(-1, NULL, WNOHANG) > 0) {
  }
}

int main(int argc, char **argv) {
  if (argc > 1 && strcmp(argv[1], "-v") == 0) {
    puts("pause (cri_client.testing)");
    return 0;
  }
  struct sigaction stop = {.sa_handler = on_stop};
  struct sigaction child = {.sa_handler = on_child, .sa_flags = SA_NOCLDSTOP};
  if (sigaction(SIGTERM, &stop, NULL) != 0 || sigaction(SIGINT, &stop, NULL) != 0 ||
      sigaction(SIGCHLD, &child, NULL) != 0) {
    perror("pause: sigaction");
    return 1;
  }
  for (;;) {
    pause();
  }
}
