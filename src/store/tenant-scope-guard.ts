import {
  OperationNodeTransformer,
  type KyselyPlugin,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  type QueryResult,
  type RootOperationNode,
  type UnknownRow,
  type OperationNode,
  type SelectQueryNode,
  type UpdateQueryNode,
  type DeleteQueryNode,
  type InsertQueryNode,
  type JoinNode,
} from 'kysely';
import { GatehouseError } from '../errors/gatehouse-error.js';
import { TENANT_TABLES } from './database.js';

/** The tenant column of each tenant-owned table; the tenants table itself is keyed by `id`. */
const TENANT_COLUMN_BY_TABLE: Readonly<Record<string, string>> = {
  tenants: 'id',
  ...Object.fromEntries(TENANT_TABLES.map((t) => [t, 'tenant_id'])),
};

function unscoped(message: string): GatehouseError {
  return new GatehouseError('store.unscoped_query', message, { status: 500, expose: false });
}

interface TableRef {
  table: string;
  alias: string | undefined;
}

function tableRef(node: OperationNode | undefined): TableRef | undefined {
  if (!node) return undefined;
  if (node.kind === 'TableNode') {
    return { table: (node as any).table.identifier.name as string, alias: undefined };
  }
  if (node.kind === 'AliasNode') {
    const inner = tableRef((node as any).node);
    const alias = (node as any).alias;
    if (inner && alias?.kind === 'IdentifierNode') return { table: inner.table, alias: alias.name };
    return inner;
  }
  return undefined;
}

/** The AND-connected conjuncts of a boolean expression (parentheses looked through). */
function conjuncts(node: OperationNode | undefined, out: OperationNode[] = []): OperationNode[] {
  if (!node) return out;
  if (node.kind === 'AndNode') {
    conjuncts((node as any).left, out);
    conjuncts((node as any).right, out);
  } else if (node.kind === 'ParensNode') {
    conjuncts((node as any).node, out);
  } else {
    out.push(node);
  }
  return out;
}

/** Is `node` the comparison `<ref>.<column> = <tenantId>` for this table? */
function isTenantEquality(node: OperationNode, ref: TableRef, column: string, tenantId: string, soleTable: boolean): boolean {
  if (node.kind !== 'BinaryOperationNode') return false;
  const { leftOperand, operator, rightOperand } = node as any;
  if (operator?.operator !== '=') return false;
  if (leftOperand?.kind !== 'ReferenceNode' || leftOperand.column?.kind !== 'ColumnNode') return false;
  if (leftOperand.column.column.name !== column) return false;
  const qualifier: string | undefined = leftOperand.table?.table?.identifier?.name;
  if (qualifier === undefined ? !soleTable : qualifier !== (ref.alias ?? ref.table)) return false;
  return rightOperand?.kind === 'ValueNode' && rightOperand.value === tenantId;
}

/**
 * Refuses, before it reaches the database, any query on a tenant-owned table that is not limited
 * to the tenant this handle is bound to: selects, updates and deletes must compare the tenant
 * column to the bound tenant (in the WHERE, or for a joined table in its ON), inserts must write
 * the bound tenant, and updates may not change the tenant column. This makes an unscoped query
 * impossible to write by accident on SQLite too, where there is no row-level security.
 */
class ScopeChecker extends OperationNodeTransformer {
  constructor(private readonly tenantId: string) {
    super();
  }

  private requireScoped(refs: TableRef[], where: OperationNode | undefined, joins: ReadonlyArray<JoinNode> = [], what: string) {
    const whereParts = conjuncts(where);
    const all = [...refs, ...joins.map((j) => tableRef(j.table)).filter((r): r is TableRef => !!r)];
    for (const ref of all) {
      const column = TENANT_COLUMN_BY_TABLE[ref.table];
      if (!column) continue;
      const join = joins.find((j) => tableRef(j.table)?.table === ref.table);
      const candidates = [...whereParts, ...conjuncts(join?.on?.on)];
      if (!candidates.some((c) => isTenantEquality(c, ref, column, this.tenantId, all.length === 1))) {
        throw unscoped(`${what} on "${ref.table}" is not limited to tenant ${this.tenantId}`);
      }
    }
  }

  protected override transformSelectQuery(node: SelectQueryNode): SelectQueryNode {
    const refs = (node.from?.froms ?? []).map(tableRef).filter((r): r is TableRef => !!r);
    this.requireScoped(refs, node.where?.where, node.joins, 'a select');
    return super.transformSelectQuery(node);
  }

  protected override transformUpdateQuery(node: UpdateQueryNode): UpdateQueryNode {
    const ref = tableRef(node.table);
    if (ref) {
      this.requireScoped([ref], node.where?.where, node.joins, 'an update');
      const column = TENANT_COLUMN_BY_TABLE[ref.table];
      for (const u of node.updates ?? []) {
        if ((u.column as any)?.column?.name === column) throw unscoped(`an update may not change "${ref.table}.${column}"`);
      }
    }
    return super.transformUpdateQuery(node);
  }

  protected override transformDeleteQuery(node: DeleteQueryNode): DeleteQueryNode {
    const refs = node.from.froms.map(tableRef).filter((r): r is TableRef => !!r);
    this.requireScoped(refs, node.where?.where, node.joins, 'a delete');
    return super.transformDeleteQuery(node);
  }

  protected override transformInsertQuery(node: InsertQueryNode): InsertQueryNode {
    const ref = tableRef(node.into);
    const column = ref && TENANT_COLUMN_BY_TABLE[ref.table];
    if (ref && column) {
      const index = (node.columns ?? []).findIndex((c) => c.column.name === column);
      if (index < 0) throw unscoped(`an insert into "${ref.table}" does not set ${column}`);
      const rows = (node.values as any)?.values ?? [];
      for (const row of rows) {
        const value = row.kind === 'PrimitiveValueListNode' ? row.values[index] : row.values?.[index]?.value;
        if (value !== this.tenantId) throw unscoped(`an insert into "${ref.table}" writes another tenant's id`);
      }
      if (rows.length === 0) throw unscoped(`an insert into "${ref.table}" must list its values`);
    }
    return super.transformInsertQuery(node);
  }
}

export class TenantScopeGuard implements KyselyPlugin {
  private readonly checker: ScopeChecker;
  constructor(tenantId: string) {
    this.checker = new ScopeChecker(tenantId);
  }
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    if (args.node.kind === 'RawNode') {
      throw unscoped('a raw SQL statement cannot be checked for tenant scope; use the query builder on a tenant handle');
    }
    return this.checker.transformNode(args.node);
  }
  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}
