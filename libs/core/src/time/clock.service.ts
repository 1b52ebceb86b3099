import { Injectable } from '@nestjs/common';

/**
 * The current time, as one injectable so tests can move it (a budget window that rolls over at
 * midnight is tested by moving the clock, not by waiting).
 */
@Injectable()
export class Clock {
  now(): Date {
    return new Date();
  }
}
