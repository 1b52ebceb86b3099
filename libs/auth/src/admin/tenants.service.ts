import { Injectable } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { decodeCursor, type Page, toPage } from '@parley/core';
import { newId } from '@parley/database';
import { DataSource, LessThan, type Repository } from 'typeorm';
import { ConflictError } from '../auth.errors';
import { AuditService } from '../audit/audit.service';
import { TenantEntity } from '../entities/tenant.entity';
import { type UserView, UsersService } from './users.service';

export interface TenantView {
  id: string;
  name: string;
  displayName: string;
  createdAt: string;
}

const toView = (t: TenantEntity): TenantView => ({
  id: t.id,
  name: t.slug,
  displayName: t.displayName,
  createdAt: t.createdAt.toISOString(),
});

@Injectable()
export class TenantsService {
  constructor(
    @InjectRepository(TenantEntity) private readonly tenants: Repository<TenantEntity>,
    private readonly users: UsersService,
    private readonly audit: AuditService,
    private readonly dataSource: DataSource,
  ) {}

  /** The tenant and its first admin, together or not at all. */
  async create(input: {
    name: string;
    displayName?: string;
    adminEmail: string;
    adminPassword: string;
    adminName?: string;
    superadmin?: boolean;
  }): Promise<{ tenant: TenantView; admin: UserView }> {
    const slug = input.name.toLowerCase();
    return this.dataSource.transaction(async (manager) => {
      const repo = manager.getRepository(TenantEntity);
      if (await repo.existsBy({ slug }))
        throw new ConflictError(`A tenant named "${slug}" already exists.`);
      const tenant = repo.create({
        id: newId(),
        slug,
        displayName: input.displayName ?? input.name,
      });
      await repo.insert(tenant);
      const admin = await this.users.create(
        tenant.id,
        {
          email: input.adminEmail,
          password: input.adminPassword,
          name: input.adminName ?? input.adminEmail.split('@')[0]!,
          role: 'admin',
          superadmin: input.superadmin,
        },
        manager,
      );
      await this.audit.record(
        'tenant.created',
        {
          tenantId: tenant.id,
          targetType: 'tenant',
          targetId: tenant.id,
          metadata: { name: slug },
        },
        manager,
      );
      return { tenant: toView(await repo.findOneByOrFail({ id: tenant.id })), admin };
    });
  }

  async list(query: { cursor?: string; limit: number }): Promise<Page<TenantView>> {
    const after = decodeCursor(query.cursor);
    const rows = await this.tenants.find({
      where: after ? { id: LessThan(after) } : {},
      order: { id: 'DESC' },
      take: query.limit + 1,
    });
    return toPage(rows, query.limit, toView);
  }

  findBySlug(slug: string): Promise<TenantEntity | null> {
    return this.tenants.findOneBy({ slug: slug.toLowerCase() });
  }

  async count(): Promise<number> {
    return this.tenants.count();
  }
}
