import { describe, expect, it } from '@jest/globals';
import { assignRoles, defaultRole, isIdentifierName } from '../../src/schema/roles.js';
import type { ColumnRole, WireType } from '../../src/schema/types.js';

describe('isIdentifierName', () => {
  it.each([
    'id',
    'ID',
    'Key',
    'code',
    'customer_id',
    'CUSTOMER_ID',
    'order-id',
    'Customer ID',
    'product_key',
    'country_code',
    'id_customer',
    'customerId',
    'orderID',
    'CustomerID',
    'productKey',
    'countryCode',
    'store2Id',
    'barcode',
    'zipcode',
    'Postcode',
  ])('treats %s as an identifier', (name) => {
    expect(isIdentifierName(name)).toBe(true);
  });

  it.each(['paid', 'valid', 'grid', 'monkey', 'turkey', 'Hockey', 'amount', 'idle', 'identity', 'keys', 'userid', 'ID card count', 'PAID', 'uuid'])(
    'does not treat %s as an identifier',
    (name) => {
      expect(isIdentifierName(name)).toBe(false);
    },
  );
});

describe('defaultRole', () => {
  it.each<[string, WireType, ColumnRole]>([
    ['amount', 'INTEGER', 'metric'],
    ['amount', 'BIGINTEGER', 'metric'],
    ['amount', 'DOUBLE', 'metric'],
    ['amount', 'BIGDECIMAL', 'metric'],
    ['amount', 'STRING', 'attribute'],
    ['flag', 'BOOL', 'attribute'],
    ['day', 'DATE', 'attribute'],
    ['at', 'TIME', 'attribute'],
    ['stamp', 'DATETIME', 'attribute'],
    ['customer_id', 'INTEGER', 'attribute'],
  ])('gives %s of type %s the %s role', (name, type, role) => {
    expect(defaultRole(name, type).role).toBe(role);
  });

  it('says when a numeric column is an attribute because of its name', () => {
    expect(defaultRole('orderId', 'BIGINTEGER')).toEqual({ role: 'attribute', roleSource: 'identifier-name' });
  });
});

describe('assignRoles', () => {
  const columns: { name: string; type: WireType }[] = [
    { name: 'id', type: 'INTEGER' },
    { name: 'qty', type: 'INTEGER' },
    { name: 'store', type: 'STRING' },
  ];

  it('lets --attribute and --metric override the defaults', () => {
    const roles = new Map<string, ColumnRole>([
      ['id', 'metric'],
      ['qty', 'attribute'],
    ]);
    expect(assignRoles(columns, roles)).toEqual([
      { name: 'id', type: 'INTEGER', role: 'metric', roleSource: 'override' },
      { name: 'qty', type: 'INTEGER', role: 'attribute', roleSource: 'override' },
      { name: 'store', type: 'STRING', role: 'attribute', roleSource: 'type' },
    ]);
  });

  it('rejects a metric that is not numeric', () => {
    expect(() => assignRoles(columns, new Map([['store', 'metric']]))).toThrow(
      expect.objectContaining({ code: 'USAGE', hint: expect.stringContaining('--type store=DOUBLE') }),
    );
  });

  it('rejects a role override for a column that does not exist, listing the columns', () => {
    expect(() => assignRoles(columns, new Map([['stores', 'attribute']]), 'data.csv')).toThrow(
      expect.objectContaining({
        code: 'USAGE',
        message: '--attribute/--metric names column "stores", which data.csv does not have',
        hint: 'columns: "id", "qty", "store"',
      }),
    );
  });
});
