import {
  InvalidVoiceTransition,
  type VoiceEvent,
  type VoiceState,
  VoiceStateMachine,
} from './voice-state';

const walk = (...events: VoiceEvent[]) => {
  const machine = new VoiceStateMachine();
  for (const event of events) machine.apply(event);
  return machine;
};

describe('VoiceStateMachine', () => {
  it('starts idle and listens once the session starts', () => {
    const machine = new VoiceStateMachine();
    expect(machine.state).toBe('idle');
    expect(machine.apply('start')).toBe('listening');
  });

  it.each<[VoiceEvent[], VoiceState]>([
    [['start', 'end_of_turn'], 'thinking'],
    [['start', 'end_of_turn', 'first_audio'], 'speaking'],
    [['start', 'end_of_turn', 'first_audio', 'answered'], 'listening'],
    // nothing to say (an empty or withheld answer): back to listening without speaking
    [['start', 'end_of_turn', 'answered'], 'listening'],
    [['start', 'end_of_turn', 'first_audio', 'barge_in'], 'interrupted'],
    [['start', 'end_of_turn', 'barge_in'], 'interrupted'],
    [['start', 'end_of_turn', 'first_audio', 'barge_in', 'resume_listening'], 'listening'],
    [
      ['start', 'end_of_turn', 'first_audio', 'barge_in', 'resume_listening', 'end_of_turn'],
      'thinking',
    ],
  ])('%j ends in %s', (events, state) => {
    expect(walk(...events).state).toBe(state);
  });

  it.each<[VoiceEvent[], VoiceEvent]>([
    [[], 'end_of_turn'],
    [['start'], 'first_audio'],
    [['start'], 'barge_in'],
    [['start'], 'start'],
    [['start', 'end_of_turn'], 'end_of_turn'],
    [['start', 'end_of_turn', 'first_audio'], 'first_audio'],
    [['start', 'end_of_turn', 'barge_in'], 'answered'],
  ])('after %j refuses %s and stays put', (events, refused) => {
    const machine = walk(...events);
    const before = machine.state;
    expect(machine.can(refused)).toBe(false);
    expect(() => machine.apply(refused)).toThrow(InvalidVoiceTransition);
    expect(machine.state).toBe(before);
  });

  it('closes from every state, and nothing moves a closed session', () => {
    for (const events of [
      [],
      ['start'],
      ['start', 'end_of_turn'],
      ['start', 'end_of_turn', 'first_audio'],
      ['start', 'end_of_turn', 'barge_in'],
    ] as VoiceEvent[][]) {
      const machine = walk(...events);
      expect(machine.apply('close')).toBe('closed');
      expect(machine.can('start')).toBe(false);
      expect(machine.can('close')).toBe(false);
    }
  });

  it('reports each transition', () => {
    const seen: string[] = [];
    const machine = new VoiceStateMachine((from, to, event) =>
      seen.push(`${from} -${event}-> ${to}`),
    );
    machine.apply('start');
    machine.apply('end_of_turn');
    expect(seen).toEqual(['idle -start-> listening', 'listening -end_of_turn-> thinking']);
  });
});
