import { jobDeadline, whyStopped } from './job-deadline';
import { JobTimedOutError } from './queue.errors';

describe('jobDeadline', () => {
  it('aborts with a JobTimedOutError when the job overruns', async () => {
    const { signal, release } = jobDeadline('rag', 30);
    expect(signal.aborted).toBe(false);
    await new Promise((r) => setTimeout(r, 60));
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBeInstanceOf(JobTimedOutError);
    expect((signal.reason as JobTimedOutError).code).toBe('JOB_TIMED_OUT');
    release();
  });

  it('does not abort a job that ended in time, and follows a cancellation', async () => {
    const finished = jobDeadline('rag', 30);
    finished.release();
    await new Promise((r) => setTimeout(r, 60));
    expect(finished.signal.aborted).toBe(false);

    const cancel = new AbortController();
    const cancelled = jobDeadline('audio.tts', 10_000, cancel.signal);
    cancel.abort(new Error('worker closing'));
    expect(cancelled.signal.aborted).toBe(true);
    expect((cancelled.signal.reason as Error).message).toBe('worker closing');
    cancelled.release();
  });

  it('reports the reason of the abort rather than the interrupted call', () => {
    const cause = new Error('socket aborted');
    const live = new AbortController();
    expect(whyStopped(live.signal, cause)).toBe(cause);
    const timedOut = new JobTimedOutError('rag', 1000);
    live.abort(timedOut);
    expect(whyStopped(live.signal, cause)).toBe(timedOut);
    expect(whyStopped(undefined, cause)).toBe(cause);
  });
});
