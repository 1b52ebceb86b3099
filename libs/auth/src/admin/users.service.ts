import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { decodeCursor, NotFoundError, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { type EntityManager, LessThan, type Repository } from 'typeorm';
import type { Role } from '../auth.constants';
import { ConflictError, SuperadminProtectedError, WeakPasswordError } from '../auth.errors';
import { AuditService } from '../audit/audit.service';
import { UserEntity } from '../entities/user.entity';
import type { Principal } from '../principal';
import { PasswordHasher } from '../passwords/password.hasher';
import { passwordProblem } from '../passwords/password.policy';

export interface UserView {
  id: string;
  tenantId: string;
  email: string;
  name: string;
  role: Role;
  superadmin: boolean;
  disabled: boolean;
  lastLoginAt: string | null;
  createdAt: string;
}

export const toUserView = (u: UserEntity): UserView => ({
  id: u.id,
  tenantId: u.tenantId,
  email: u.email,
  name: u.displayName,
  role: u.role,
  superadmin: u.superadmin,
  disabled: u.disabled,
  lastLoginAt: u.lastLoginAt?.toISOString() ?? null,
  createdAt: u.createdAt.toISOString(),
});

export interface NewUser {
  email: string;
  password: string;
  name: string;
  role: Role;
  superadmin?: boolean;
}

@Injectable()
export class UsersService {
  constructor(
    @InjectRepository(UserEntity) private readonly users: Repository<UserEntity>,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
  ) {}

  /** Creates a user; `manager` lets a caller include it in a larger transaction. */
  async create(tenantId: string, input: NewUser, manager?: EntityManager): Promise<UserView> {
    const problem = passwordProblem(input.password, { email: input.email });
    if (problem) throw new WeakPasswordError(problem);
    const repo = manager?.getRepository(UserEntity) ?? this.users;
    const exists = await repo
      .createQueryBuilder('u')
      .where('u.tenant_id = :tenantId AND lower(u.email) = lower(:email)', {
        tenantId,
        email: input.email,
      })
      .getExists();
    if (exists) throw new ConflictError('A user with this email already exists in this tenant.');
    const user = repo.create({
      id: newId(),
      tenantId,
      email: input.email.trim(),
      displayName: input.name,
      passwordHash: await this.hasher.hash(input.password),
      role: input.role,
      superadmin: input.superadmin ?? false,
      disabled: false,
      tokensValidAfter: new Date(),
    });
    await repo.insert(user);
    await this.audit.record(
      'user.created',
      { tenantId, targetType: 'user', targetId: user.id, metadata: { role: user.role } },
      manager,
    );
    return toUserView(await repo.findOneByOrFail({ id: user.id }));
  }

  async list(tenantId: string, query: { cursor?: string; limit: number }): Promise<Page<UserView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.users.find({
      where: { tenantId, ...(after ? { id: LessThan(after) } : {}) },
      order: { id: 'DESC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, toUserView);
  }

  async get(tenantId: string, id: string): Promise<UserView> {
    return toUserView(await this.find(tenantId, id));
  }

  /**
   * Role and status changes end the user's sessions: old access tokens fail at once. A
   * superadmin's account is changed only by a superadmin (`actor`).
   */
  async update(
    tenantId: string,
    id: string,
    patch: { role?: Role; disabled?: boolean; name?: string },
    actor: Principal,
  ): Promise<UserView> {
    const user = await this.find(tenantId, id);
    if (user.superadmin && !actor.superadmin) throw new SuperadminProtectedError();
    const changes: Partial<UserEntity> = {};
    const events: [Parameters<AuditService['record']>[0], Record<string, unknown>][] = [];
    if (patch.name !== undefined && patch.name !== user.displayName)
      changes.displayName = patch.name;
    if (patch.role !== undefined && patch.role !== user.role) {
      changes.role = patch.role;
      events.push(['user.role_changed', { from: user.role, to: patch.role }]);
    }
    if (patch.disabled !== undefined && patch.disabled !== user.disabled) {
      changes.disabled = patch.disabled;
      events.push([patch.disabled ? 'user.disabled' : 'user.enabled', {}]);
    }
    if (events.length > 0) changes.tokensValidAfter = new Date();
    if (Object.keys(changes).length > 0) {
      await this.users.update({ id, tenantId }, changes);
      if (changes.tokensValidAfter) await this.revokeSessions(id);
    }
    for (const [action, metadata] of events) {
      await this.audit.record(action, { tenantId, targetType: 'user', targetId: id, metadata });
    }
    return this.get(tenantId, id);
  }

  async changePassword(tenantId: string, id: string, password: string): Promise<void> {
    const user = await this.find(tenantId, id);
    const problem = passwordProblem(password, { email: user.email });
    if (problem) throw new WeakPasswordError(problem);
    await this.users.update(
      { id, tenantId },
      { passwordHash: await this.hasher.hash(password), tokensValidAfter: new Date() },
    );
    await this.revokeSessions(id);
    await this.audit.record('auth.password.changed', {
      tenantId,
      targetType: 'user',
      targetId: id,
    });
  }

  private async revokeSessions(userId: string): Promise<void> {
    await this.users.manager.query(
      `UPDATE refresh_tokens SET revoked_at = now() WHERE user_id = $1 AND revoked_at IS NULL`,
      [userId],
    );
  }

  private async find(tenantId: string, id: string): Promise<UserEntity> {
    const user = await this.users.findOne({ where: { id, tenantId } });
    if (!user) throw new NotFoundError('User');
    return user;
  }
}
