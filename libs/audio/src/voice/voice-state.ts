/** Where a voice session stands. `closed` is final. */
export type VoiceState = 'idle' | 'listening' | 'thinking' | 'speaking' | 'interrupted' | 'closed';

/** What moves a session from one state to the next. */
export type VoiceEvent =
  /** session.start accepted */
  | 'start'
  /** the caller stopped speaking: their turn is complete */
  | 'end_of_turn'
  /** the first audio frame of the answer went out */
  | 'first_audio'
  /** the answer finished (or there was nothing to say) */
  | 'answered'
  /** the caller talked over the answer, and it counted */
  | 'barge_in'
  /** the interrupted answer is wound up; listening again */
  | 'resume_listening'
  | 'close';

const TRANSITIONS: Record<VoiceState, Partial<Record<VoiceEvent, VoiceState>>> = {
  idle: { start: 'listening', close: 'closed' },
  listening: { end_of_turn: 'thinking', close: 'closed' },
  thinking: {
    first_audio: 'speaking',
    answered: 'listening',
    barge_in: 'interrupted',
    close: 'closed',
  },
  speaking: { answered: 'listening', barge_in: 'interrupted', close: 'closed' },
  interrupted: { resume_listening: 'listening', close: 'closed' },
  closed: {},
};

/** An event the current state does not accept: a bug in the session, never the caller's input. */
export class InvalidVoiceTransition extends Error {
  constructor(
    readonly from: VoiceState,
    readonly event: VoiceEvent,
  ) {
    super(`voice session: "${event}" is not allowed in state "${from}"`);
  }
}

/**
 * The per-session state machine: idle → listening → thinking → speaking → (interrupted →
 * listening), every transition explicit. `can` asks, `apply` moves (or throws).
 */
export class VoiceStateMachine {
  private current: VoiceState = 'idle';

  constructor(
    private readonly onChange?: (from: VoiceState, to: VoiceState, event: VoiceEvent) => void,
  ) {}

  get state(): VoiceState {
    return this.current;
  }

  can(event: VoiceEvent): boolean {
    return TRANSITIONS[this.current][event] !== undefined;
  }

  apply(event: VoiceEvent): VoiceState {
    const next = TRANSITIONS[this.current][event];
    if (next === undefined) throw new InvalidVoiceTransition(this.current, event);
    const from = this.current;
    this.current = next;
    this.onChange?.(from, next, event);
    return next;
  }
}
