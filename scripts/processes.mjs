// What the local runner, its reaper and the demo ask about other processes.

/** Whether a process with this pid is running (one of another user's counts: EPERM). */
export function isAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === 'EPERM';
  }
}
